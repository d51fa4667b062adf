"""``pipeline_ci.records.NamedTuple`` (the lint path's records, made without importing ``typing``) behaves as
:class:`typing.NamedTuple` does: same fields, defaults, methods, comparisons, hashing, ``repr``, pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys
import typing

import pytest

from pipeline_ci import records

from .conftest import REPO


class Ours(records.NamedTuple):
    """A record."""

    line: int
    col: int = 1
    tags: frozenset[str] = frozenset()

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col}"

    def moved(self, lines: int) -> Ours:
        return self._replace(line=self.line + lines)


class Theirs(typing.NamedTuple):
    """A record."""

    line: int
    col: int = 1
    tags: frozenset[str] = frozenset()

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col}"

    def moved(self, lines: int) -> Theirs:
        return self._replace(line=self.line + lines)


def test_a_record_behaves_as_typing_named_tuple():
    for ours, theirs in ((Ours(3), Theirs(3)), (Ours(3, col=7, tags=frozenset({"a"})), Theirs(3, 7, frozenset({"a"})))):
        assert tuple(ours) == tuple(theirs)
        assert ours._fields == theirs._fields == ("line", "col", "tags")
        assert ours._field_defaults == theirs._field_defaults == {"col": 1, "tags": frozenset()}
        assert ours._asdict() == theirs._asdict()
        assert repr(ours).replace("Ours", "X") == repr(theirs).replace("Theirs", "X")
        assert (ours.where, tuple(ours.moved(2))) == (theirs.where, tuple(theirs.moved(2)))
        assert isinstance(ours.moved(2), Ours)
        assert hash(ours) == hash(theirs) and ours == theirs  # tuples both
        assert pickle.loads(pickle.dumps(ours)) == ours and type(pickle.loads(pickle.dumps(ours))) is Ours
        with pytest.raises(AttributeError):
            ours.line = 4  # type: ignore[misc]
        with pytest.raises(AttributeError):
            ours.extra = 4  # type: ignore[attr-defined]  # __slots__ = (): no instance dictionary
    assert sorted([Ours(2, 5), Ours(1, 9), Ours(2, 1)]) == [Ours(1, 9), Ours(2, 1), Ours(2, 5)]
    assert Ours.__doc__ == "A record."
    with pytest.raises(TypeError):
        Ours()  # type: ignore[call-arg]  # ``line`` has no default


def test_importing_records_imports_neither_typing_nor_dataclasses():
    code = "import sys, pipeline_ci.records\nprint(sorted(m for m in ('typing', 'dataclasses') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_field_without_default_after_one_with_default_is_refused_as_typing_does():
    with pytest.raises(TypeError):
        class Theirs(typing.NamedTuple):  # noqa: F841
            x: int = 1
            y: int
    with pytest.raises(TypeError, match="without a default follows"):
        class Ours(records.NamedTuple):  # noqa: F841
            x: int = 1
            y: int
