"""Small immutable records, without :mod:`dataclasses`.

The agent hook is a new process at every prompt and edit, and importing ``dataclasses`` imports
``inspect`` (with ``ast``, ``dis`` and ``tokenize``): several milliseconds before any work, and
each frozen dataclass takes longer again to build than the hook's reads. The records on its path
derive from :class:`Frozen` instead. Standard library only, and nothing imported.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Self


class Record:
    """Equal to a record of the same class with equal fields, and shown with their names; the
    fields are the class's ``__slots__``, in the order its ``__init__`` takes them. Unhashable
    unless the class says how (defining ``__eq__`` leaves ``__hash__`` None, as on a dataclass
    with ``eq`` and without ``frozen``)."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"


class Frozen(Record):
    """A :class:`Record` whose fields are each set once only: hashed by their values, copied and
    pickled by value.

    A subclass sets each field in its ``__init__`` as ``self.name: Final = value`` (``Final``
    tells mypy too that it is never assigned again). One level only: the fields are those of
    the class itself.
    """

    __slots__: tuple[str, ...] = ()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__qualname__} is immutable: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__qualname__} is immutable: cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        return type(self), self._values()
