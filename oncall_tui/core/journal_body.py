"""The base of every journal body: how a body's fields become the JSON an entry holds.

It lives apart from :mod:`oncall_tui.core.journal` so that bodies kept in their own modules
(the notes in :mod:`oncall_tui.core.journal_notes`) can derive from it while the journal
module, which spells every kind and registers every body, imports them.

A body is declared as a frozen slotted dataclass would be (:func:`record`), but it is not one:
a dataclass compiles five methods when its module is imported, and every command that writes
to the journal imports all thirty-odd bodies to write one or two. A record compiles only its
``__init__``, the first time one is made; equality, hashing and ``repr`` are
:class:`~oncall_tui.core.frozen.Frozen`'s, and the fields cannot be assigned after ``__init__``,
as on a frozen dataclass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import FrozenInstanceError
from enum import StrEnum
from typing import Any, ClassVar, NoReturn, Self, TypeVar, cast, dataclass_transform

from pydantic import BaseModel

from oncall_tui.core.frozen import Frozen

RecordT = TypeVar("RecordT", bound="JournalBody")

encode_body = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
"""A body's stored text: compact, keys sorted, ASCII. Performance: ``json.dumps`` with options
builds an encoder per call, and the fold of a storm writes three bodies per delivery."""
json_string = json.encoder.encode_basestring_ascii
"""A string as :data:`encode_body` spells it, for bodies that spell their own text."""


class JournalBody(Frozen):
    """The kind-specific payload of one entry.

    ``_KEYS`` are the fields written as JSON keys of the same name, ``_OMITTED_WHEN_NONE``
    those left out when unset (as the journal always wrote them), ``_MODELS`` the fields that
    hold one domain model, written as its JSON. A body of another shape overrides
    :meth:`to_json` and :meth:`from_json`. ``KIND`` is set when the journal registers it.
    ``_FIELDS`` and ``_DEFAULTS`` are the fields :func:`record` found, in declaration order.
    """

    __slots__ = ()
    KIND: ClassVar[StrEnum]
    _KEYS: ClassVar[tuple[str, ...]] = ()
    _OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    _MODELS: ClassVar[Mapping[str, type[BaseModel]]] = {}
    _FIELDS: ClassVar[tuple[str, ...]] = ()
    _DEFAULTS: ClassVar[Mapping[str, object]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Only the first body of each class comes here: it gives the class its own __init__.
        cls = type(self)
        setattr(cls, "__init__", _compiled_init(cls))  # noqa: B010 (mypy forbids the assignment)
        cls.__init__(self, *args, **kwargs)

    # Frozen's equality, hash, repr and pickling, by the fields (the ``__slots__`` record()
    # gives each body). Assigning raises as on a frozen dataclass: __init__ sets fields with
    # object.__setattr__.
    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def to_json(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in self._KEYS}
        for key in self._OMITTED_WHEN_NONE:
            if data[key] is None:
                del data[key]
        for key in self._MODELS:
            data[key] = data[key].model_dump(mode="json")
        return data

    def journal_text(self) -> tuple[str, dict[str, Any] | None]:
        """The row's text, and the JSON it spells when that was made on the way (None when the
        text was spelled without it: the entry makes it only if asked)."""
        text = self.spelled()
        if text is not None:
            return text, None
        data = self.to_json()
        return encode_body(data), data

    def spelled(self) -> str | None:
        """The text :data:`encode_body` would make of :meth:`to_json`, spelled directly, or None
        to have it encoded. A body written for every signal or delivery of a storm spells it
        (the same text: tests hold it), several times faster than making and encoding the dict.
        """
        return None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        values = {key: data[key] for key in cls._KEYS if key in data}
        for key, model in cls._MODELS.items():
            values[key] = model.model_validate(values[key])
        return cls(**values)


@dataclass_transform(frozen_default=True)
def record(cls: type[RecordT]) -> type[RecordT]:
    """``cls`` as a slotted body whose annotated class attributes are its fields (a value is
    the field's default), in the order they are declared."""
    own = vars(cls)
    names = tuple(own.get("__annotations__", {}))
    defaults = {name: own[name] for name in names if name in own}
    for before, name in zip(names, names[1:], strict=False):
        if before in defaults and name not in defaults:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one")
    for name, value in defaults.items():
        if isinstance(value, list | dict | set):
            raise ValueError(f"{cls.__name__}: mutable default for field {name!r}")
    namespace = {
        key: value
        for key, value in own.items()
        if key not in defaults and key not in ("__dict__", "__weakref__")
    }
    namespace.update(__slots__=names, __match_args__=names, _FIELDS=names, _DEFAULTS=defaults)
    return cast("type[RecordT]", type(cls.__name__, cls.__bases__, namespace))


def _compiled_init(cls: type[JournalBody]) -> Any:
    """``__init__(self, field, ..., field=default)``, assigning each field as it is given: as
    fast as a dataclass's, which is made the same way."""
    params = ", ".join(
        f"{name}=_defaults[{name!r}]" if name in cls._DEFAULTS else name for name in cls._FIELDS
    )
    sets = "".join(f"\n    _set(self, {name!r}, {name})" for name in cls._FIELDS)
    source = f"def __init__(self, {params}):{sets or chr(10) + '    pass'}"
    scope: dict[str, Any] = {"_defaults": cls._DEFAULTS, "_set": object.__setattr__}
    exec(source, scope)  # the source is made of the class's own field names only
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
