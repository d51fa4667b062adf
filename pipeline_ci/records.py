"""``NamedTuple`` for the records of the lint path, without importing :mod:`typing` or :mod:`dataclasses`.

A cold ``pipeline-ci lint`` is mostly start-up: ``@dataclass`` compiles several methods per class at import (about
0.3 ms a class) and ``import dataclasses`` brings :mod:`inspect` and :mod:`dis` with it; ``typing`` is not imported on
the lint path at all. Immutable records there are written as typed named tuples instead::

    from .records import NamedTuple

    class Pos(NamedTuple):
        line: int
        col: int = 1

Type checkers see :class:`typing.NamedTuple`; at run time the class is made with :func:`collections.namedtuple`
(fields from the annotations, defaults from their values, methods and properties kept, ``__slots__ = ()``). Like any
named tuple, a record compares, hashes and sorts as the tuple of its fields (so ``Pos(1, 2) == (1, 2)``): use it for
values, not for things compared by identity or mutated. Mutable records on the lint path are plain classes.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # not typing's: typing is not imported on the lint path
if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    class _NamedTupleMeta(type):
        """typing.NamedTuple's class syntax (fields from the annotations, defaults from their values), made with
        :func:`collections.namedtuple`."""

        def __new__(cls, name: str, bases: tuple, namespace: dict) -> type:
            fields = list(namespace.get("__annotations__", {}))
            given = [field in namespace for field in fields]
            if any(given[i] and not given[i + 1] for i in range(len(given) - 1)):  # as typing.NamedTuple refuses
                raise TypeError(f"{name}: a field without a default follows one with a default")
            defaults = [namespace.pop(field) for field in fields if field in namespace]
            return type(name, (namedtuple(name, fields, defaults=defaults),), {**namespace, "__slots__": ()})

    def NamedTuple() -> None:  # noqa: N802 - stands for typing.NamedTuple as a base class
        pass

    NamedTuple.__mro_entries__ = lambda bases: (type.__new__(_NamedTupleMeta, "NamedTuple", (), {}),)
