"""YAML composed under limits: nesting depth and node count, aliases counted as expanded.

PyYAML's composer recurses once per level of nesting (10,000 levels exhaust Python's recursion
with a traceback), and it composes an alias as a reference to a node already built: cheap to
compose, but whoever walks the result walks that node once per reference, so a small file of
aliases can stand for millions of nodes. Here both are counted while the nodes are built, and
a document over a limit is refused at the node that crossed it, before anything walks it.
Pure: text in, yaml nodes out (the caller turns them into its own model and errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, Event, MappingStartEvent, SequenceStartEvent
from yaml.nodes import Node
from yaml.resolver import Resolver

_LIBYAML: bool = yaml.__with_libyaml__
"""PyYAML built without libyaml has no CParser: the Python parser then does it all, slower."""
if TYPE_CHECKING or _LIBYAML:
    from yaml._yaml import CParser

MAX_DEPTH = 64
"""Nested mappings and lists; the catalog formats need 5."""
MAX_NODES = 500_000
"""A catalog takes about 15 nodes per service."""


class LimitExceededError(Exception):
    """A document over :data:`MAX_DEPTH` or :data:`MAX_NODES`, at the 1-based ``line``."""

    def __init__(self, event: Event, problem: str) -> None:
        super().__init__(problem)
        self.line = event.start_mark.line + 1 if event.start_mark is not None else 1
        self.problem = problem


def compose_bounded(text: str) -> list[Node]:
    """Every document's root node, through libyaml when it is there.

    Raises :class:`LimitExceededError`, or yaml's own errors. A file libyaml rejects is read
    again in Python, whose messages (and marks) users see: a file that is wrong is small, or it
    is refused by the limits as quickly either way.
    """
    if _LIBYAML:
        try:
            return _documents(_LibyamlLoader(text))
        except yaml.YAMLError:
            pass
    return _documents(_PythonLoader(text))


def _documents(loader: _PythonLoader | _LibyamlLoader) -> list[Node]:
    try:
        docs: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                docs.append(node)
        return docs
    finally:
        loader.dispose()


class _Bounded(Composer):
    """yaml's composer, counting nesting and nodes as it builds them.

    It recurses once per level of nesting, so depth is checked before each level is entered.
    An alias is a reference to a node already built (cheap to compose) but the reader walks it
    once per reference, so it counts as the size of what it stands for, and a file of aliases
    of aliases is refused as soon as its expansion passes :data:`MAX_NODES`.
    """

    def _start_counting(self) -> None:
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}  # id of an anchored node -> nodes it stands for

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Event = self.peek_event()  # type: ignore[attr-defined]  # the parser's, mixed in
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            self._count(self._sizes.get(id(node), 1), event)
            return node
        nested = isinstance(event, (MappingStartEvent, SequenceStartEvent))
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels, far more than a catalog needs"
                raise LimitExceededError(event, problem)
        self._count(1, event)
        before = self._nodes
        try:
            node = super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1
        if getattr(event, "anchor", None) is not None:
            self._sizes[id(node)] = self._nodes - before + 1
        return node

    def _count(self, nodes: int, event: Event) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            problem = f"more than {MAX_NODES:,} YAML nodes (an alias counts as all it stands for)"
            raise LimitExceededError(event, problem)


class _PythonLoader(_Bounded, yaml.SafeLoader):
    """The pure-Python safe loader: its error messages are the ones users see."""

    def __init__(self, text: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._start_counting()


if TYPE_CHECKING or _LIBYAML:

    class _LibyamlLoader(_Bounded, CParser, SafeConstructor, Resolver):
        """libyaml's parser under the same composer: the same nodes, four times faster.

        The composer comes first in the method order, so nodes are built (and counted) in
        Python from libyaml's events rather than by libyaml's own composer.
        """

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_counting()
