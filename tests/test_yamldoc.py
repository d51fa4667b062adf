"""Position tracking, including positions inside the YAML embedded in a string."""

from __future__ import annotations

import tracemalloc

import pytest

from pipeline_ci.yamldoc import LoadError, Pos, load_embedded, load_text

from .conftest import calls_made

OUTER = """\
pipeline:
  id: demo
  orchestration_spec:
    argo_orchestration_spec: |
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow

      spec:
        entrypoint: main   # a comment
        templates:
        - name: main
          steps: []
"""


def test_values_and_keys_have_positions():
    doc = load_text(OUTER, "c.yaml")
    assert doc.pos(("pipeline", "id")) == Pos(2, 7)
    assert doc.pos(("pipeline", "id"), key=True) == Pos(2, 3)
    assert doc.pos(("pipeline", "nope", "deeper")) == doc.pos(("pipeline",))


def test_literal_block_positions_map_exactly_to_the_outer_file():
    outer = load_text(OUTER, "c.yaml")
    spec = load_embedded(outer, ("pipeline", "orchestration_spec", "argo_orchestration_spec"))
    assert spec.data["spec"]["entrypoint"] == "main"
    assert spec.pos(("spec", "entrypoint")) == Pos(9, 21)
    assert spec.pos(("spec", "entrypoint"), key=True) == Pos(9, 9)
    assert spec.pos(("spec", "templates", 0, "name")) == Pos(11, 17)
    assert OUTER.splitlines()[10][16:20] == "main"
    assert spec.file == "c.yaml"


@pytest.mark.parametrize(
    "style",
    ['"apiVersion: v1\\nkind: Workflow\\n"', ">\n      apiVersion: v1\n\n      kind: Workflow\n"],
)
def test_other_scalar_styles_map_to_the_scalar_itself(style):
    text = f"pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: {style}"
    outer = load_text(text, "c.yaml")
    spec = load_embedded(outer, ("pipeline", "orchestration_spec", "argo_orchestration_spec"))
    assert spec.data["kind"] == "Workflow"
    assert spec.pos(("kind",)) == Pos(3, 30)


def test_syntax_error_inside_the_embedded_spec_points_into_the_outer_file():
    text = "spec: |\n  a: 1\n  b: [1, 2\n  c: 3\n"
    outer = load_text(text, "c.yaml")
    with pytest.raises(LoadError) as err:
        load_embedded(outer, ("spec",))
    assert err.value.pos.line in (3, 4)
    assert err.value.pos.col >= 3


def test_duplicate_keys_are_problems_at_the_repeated_key():
    doc = load_text("a: 1\nb: 2\na: 3\n", "f")
    assert doc.data == {"a": 3, "b": 2}
    [problem] = doc.problems
    assert problem.kind == "duplicate-key" and problem.pos == Pos(3, 1)


def test_merge_keys_and_anchors_build_like_safe_load():
    doc = load_text("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", "f")
    assert doc.data["derived"] == {"x": 1, "y": 3}


def test_alias_bomb_is_refused_fast_with_bounded_memory():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")

    def load() -> None:
        with pytest.raises(LoadError, match="alias bomb"):
            load_text("\n".join(lines) + "\n", "bomb.yaml")

    tracemalloc.start()
    made = calls_made(load)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert made < 20_000  # about 1,500 here; the expansion would never end
    assert peak < 5 * 1024 * 1024


def test_recursive_alias_and_deep_nesting_are_refused():
    with pytest.raises(LoadError):
        load_text("a: &a [*a]\n", "f")
    with pytest.raises(LoadError, match="nest"):
        load_text("[" * 5000 + "]" * 5000, "f")


def test_non_scalar_keys_are_refused_with_a_position():
    with pytest.raises(LoadError) as err:
        load_text("? [a, b]\n: 1\n", "f")
    assert err.value.pos == Pos(1, 3)


def _col_of(text: str, line: int, token: str) -> int:
    return text.splitlines()[line - 1].index(token) + 1


def test_anchors_and_tags_are_skipped_in_value_and_key_positions():
    text = ("a: &n my_main\n"
            "b: !!float 3.10\n"
            "c: &x !!str  tagged   # both, then blanks\n"
            "d: !!str &y both2\n"
            "&k e: 1\n"
            "f: &m  # a comment\n"
            "  # another\n"
            "  inner: 1\n"
            "g: [&i one, !!str two]\n"
            "h: &empty\n"
            "i: !!str |\n"
            "  block\n")
    doc = load_text(text, "f")
    assert doc.pos(("a",)) == Pos(1, _col_of(text, 1, "my_main"))
    assert doc.pos(("b",)) == Pos(2, _col_of(text, 2, "3.10"))
    assert doc.pos(("c",)) == Pos(3, _col_of(text, 3, "tagged"))
    assert doc.pos(("d",)) == Pos(4, _col_of(text, 4, "both2"))
    assert doc.pos(("e",), key=True) == Pos(5, _col_of(text, 5, "e:"))
    assert doc.pos(("f",)) == Pos(8, 3)  # a block mapping starts at its first key, as without the anchor
    assert doc.pos(("f", "inner")) == Pos(8, 10)
    assert doc.pos(("g", 0)) == Pos(9, _col_of(text, 9, "one"))
    assert doc.pos(("g", 1)) == Pos(9, _col_of(text, 9, "two"))
    assert doc.pos(("h",)) == Pos(10, 4)  # no content: the anchor itself
    assert doc.pos(("i",)) == Pos(11, _col_of(text, 11, "|"))
    assert doc.data["b"] == 3.1 and doc.data["f"] == {"inner": 1} and doc.data["h"] is None
    plain = load_text("a: x && y\nb: z != w\n", "f")  # `&&` and `!=` are not properties
    assert plain.pos(("a",)) == Pos(1, 4) and plain.pos(("b",)) == Pos(2, 4)


def test_anchors_and_tags_inside_the_embedded_spec_are_skipped():
    text = ("pipeline:\n  orchestration_spec:\n    argo_orchestration_spec: |\n      spec:\n"
            "        entrypoint: &e main\n        templates:\n        - name: !!str main\n")
    outer = load_text(text, "c.yaml")
    spec = load_embedded(outer, ("pipeline", "orchestration_spec", "argo_orchestration_spec"))
    assert spec.pos(("spec", "entrypoint")) == Pos(5, _col_of(text, 5, "main"))
    assert spec.pos(("spec", "templates", 0, "name")) == Pos(7, _col_of(text, 7, "main"))
