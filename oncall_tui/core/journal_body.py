"""The base of every journal body: how a body's fields become the JSON an entry holds.

It lives apart from :mod:`oncall_tui.core.journal` so that bodies kept in their own modules
(the notes in :mod:`oncall_tui.core.journal_notes`) can derive from it while the journal
module, which spells every kind and registers every body, imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel


class JournalBody:
    """The kind-specific payload of one entry.

    ``_KEYS`` are the fields written as JSON keys of the same name, ``_OMITTED_WHEN_NONE``
    those left out when unset (as the journal always wrote them), ``_MODELS`` the fields that
    hold one domain model, written as its JSON. A body of another shape overrides
    :meth:`to_json` and :meth:`from_json`. ``KIND`` is set when the journal registers it.
    """

    __slots__ = ()
    KIND: ClassVar[StrEnum]
    _KEYS: ClassVar[tuple[str, ...]] = ()
    _OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    _MODELS: ClassVar[Mapping[str, type[BaseModel]]] = {}

    def to_json(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in self._KEYS}
        for key in self._OMITTED_WHEN_NONE:
            if data[key] is None:
                del data[key]
        for key in self._MODELS:
            data[key] = data[key].model_dump(mode="json")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        values = {key: data[key] for key in cls._KEYS if key in data}
        for key, model in cls._MODELS.items():
            values[key] = model.model_validate(values[key])
        return cls(**values)
