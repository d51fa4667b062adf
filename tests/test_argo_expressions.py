"""Argo expression languages: ``depends`` (Argo docs ``enhanced-depends-logic/``) and ``when`` (govaluate, Argo docs
``walk-through/conditionals/``)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline_ci.argo import depends, when
from pipeline_ci.argo.depends import ExprError, TaskState

# ------------------------------------------------------------------------------------------ depends


def test_shared_error_class() -> None:
    assert when.ExprError is ExprError
    assert issubclass(ExprError, ValueError)


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("A.Succeeded || B.Failed", [("A", "Succeeded", 0), ("B", "Failed", 15)]),
        ("A", [("A", None, 0)]),
        (
            "!(task-1 || B.Errored) && C.AllFailed",
            [("task-1", None, 2), ("B", "Errored", 12), ("C", "AllFailed", 26)],
        ),
        ("  (A.Daemoned)  ", [("A", "Daemoned", 3)]),
        ("A&&B||C", [("A", None, 0), ("B", None, 3), ("C", None, 6)]),
    ],
)
def test_depends_valid(text: str, refs: list[tuple[str, str | None, int]]) -> None:
    node = depends.parse(text)
    assert [(r.task, r.result, r.offset) for r in depends.references(node)] == refs


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("A.Succeded", "task result 'Succeded' for task 'A' is invalid", 2),  # acceptance 9a
        ("A &&", "unexpected end of expression", 4),  # acceptance 9b
        ("A and B", "use '&&'", 2),  # acceptance 9d
        ("A or B", "use '||'", 2),
        ("not A", "use '!'", 0),
        ("", "empty", 0),
        ("(A && B", "missing ')'", 0),
        ("A && B)", "unmatched ')'", 6),
        ("A.succeeded", "task result 'succeeded' for task 'A' is invalid", 2),
        ("A B", "unexpected 'B'", 2),
        ("A & B", "use '&&'", 2),
        ("a_b", "invalid task name 'a_b'", 0),
        ("-a", "invalid task name '-a'", 0),
        ("A || ", "unexpected end of expression after '||'", 5),
        ("A && ()", "unexpected ')'", 6),
        ("A == B", "unexpected character '='", 2),
    ],
)
def test_depends_errors(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExprError) as info:
        depends.parse(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_and_binds_tighter_than_or() -> None:
    node = depends.parse("A || B && C")
    states = {"A": TaskState("Succeeded"), "B": TaskState("Failed"), "C": TaskState("Succeeded")}
    assert depends.evaluate(node, states) is True
    assert depends.evaluate(depends.parse("(A || B) && C.Failed"), states) is False


def test_from_dependencies() -> None:
    assert depends.from_dependencies(["A", "B"]) == "A && B"
    assert depends.from_dependencies([]) == ""
    node = depends.parse(depends.from_dependencies(["x", "y-z"]))
    assert [r.task for r in depends.references(node)] == ["x", "y-z"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (TaskState("Succeeded"), True),
        (TaskState("Skipped"), True),
        (TaskState("Running", daemoned=True), True),
        (TaskState("Failed"), False),
        (TaskState("Error"), False),
        (TaskState("Omitted"), False),
        (TaskState("Failed", continue_on=frozenset({"failed"})), True),
        (TaskState("Error", continue_on=frozenset({"failed"})), False),
        (TaskState("Error", continue_on=frozenset({"error"})), True),
    ],
)
def test_bare_name_expansion(state: TaskState, expected: bool) -> None:
    assert depends.evaluate(depends.parse("A"), {"A": state}) is expected


def test_results() -> None:
    def check(text: str, state: TaskState) -> bool:
        return depends.evaluate(depends.parse(text), {"A": state})

    assert check("A.Errored", TaskState("Error"))
    assert not check("A.Failed", TaskState("Error"))
    assert check("A.Omitted", TaskState("Omitted"))
    assert check("!A.Succeeded", TaskState("Skipped"))
    assert check("A.AnySucceeded", TaskState("Failed", children=["Failed", "Succeeded"]))
    assert not check("A.AnySucceeded", TaskState("Succeeded"))  # not a fan-out
    assert check("A.AllFailed", TaskState("Failed", children=["Failed", "Failed"]))
    assert not check("A.AllFailed", TaskState("Failed", children=["Failed", "Error"]))
    assert not check("A.AllFailed", TaskState("Skipped", children=[]))


def test_missing_result_is_an_error() -> None:
    with pytest.raises(ExprError, match="task 'B' has no result") as info:
        depends.evaluate(depends.parse("A && B"), {"A": TaskState("Succeeded")})
    assert info.value.offset == 5


def test_depends_nesting_limit() -> None:
    depends.parse("(" * 50 + "!" * 50 + "A" + ")" * 50)
    with pytest.raises(ExprError, match="nested too deeply"):
        depends.parse("(" * 60 + "!" * 60 + "A" + ")" * 60)


# --------------------------------------------------------------------------------------------- when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Succeeded == Succeeded", True),
        ("Failed == Succeeded", False),
        ("'5' == 5", False),
        ('"5" == 5', False),
        ("5 == 5.0", True),
        ("05 == 5", True),
        ('"a" + 1 == "a1"', True),
        ("1 + 'a' == '1a'", True),
        ("'x' + true == 'xtrue'", True),
        ("'n' + 1000000 == 'n1e+06'", True),
        ("'n' + 0.5 == 'n0.5'", True),
        ("'hello' =~ '^h.l+o$'", True),
        ("'hello' !~ 'z'", True),
        ("true || false && false", True),
        ("(true || false) && false", False),
        ("1 + 2 * 3 == 7", True),
        ("2 ** 3 ** 2 == 64", True),
        ("-2 ** 2 == 4", True),
        ("10 - 2 - 3 == 5", True),
        ("0x1F == 31", True),
        ("0xff + 1 == 256", True),
        ("1 << 4 == 16 && 256 >> 4 == 16", True),
        ("(6 & 3) == 2 && (6 | 3) == 7 && (6 ^ 3) == 5", True),
        ("~0 == -1", True),
        ("7 % 3 == 1", True),
        ("'b' > 'a' && 2 >= 2 && 1 < 1.5 && 'a' <= 'a'", True),
        ("!(1 == 2)", True),
        ("1 != 2", True),
        ("true ? true : false", True),
        ("false ? true : false", False),
        ("(1 == 2 ? 'x' : 'y') == 'y'", True),
        ("'a' in ('b', 'a')", True),
        ("3 IN (1, 2)", False),
        ("[my value-1] == 'my value-1'", True),
        ("'it\\'s' == \"it\\'s\"", True),
        ("'2024-01-01' < '2024-02-01'", True),
    ],
)
def test_when_evaluation(text: str, expected: bool) -> None:
    assert when.evaluate_when(text) is expected


def test_evaluate_values() -> None:
    assert when.evaluate(when.parse("true ? 'a' : 'b'")) == "a"
    assert when.evaluate(when.parse("false ? 'a' : 'b'")) == "b"
    assert when.evaluate(when.parse("false ? 'a'")) is None
    assert when.evaluate(when.parse("1, 2, 'x'")) == [1.0, 2.0, "x"]
    assert when.evaluate(when.parse("1 / 0")) == float("inf")
    assert when.evaluate(when.parse("Succeeded")) == "Succeeded"


def test_substitution_then_evaluation() -> None:
    values = {"steps.step-a.status": "Succeeded", "inputs.parameters.msg": "hello world"}
    assert when.substitute_and_evaluate("{{steps.step-a.status}} == Succeeded", values.__getitem__) is True
    assert when.substitute_and_evaluate("{{ steps.step-a.status }} == Failed", values.__getitem__) is False
    assert when.substitute_and_evaluate("'{{inputs.parameters.msg}}' == 'hello world'", values.__getitem__)
    with pytest.raises(ExprError, match="Cannot transition token types"):
        when.substitute_and_evaluate("{{inputs.parameters.msg}} == x", values.__getitem__)


def test_empty_when_is_true() -> None:
    assert when.evaluate_when("") is True


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("hello world", "Cannot transition token types from VARIABLE [hello] to VARIABLE [world]", 6),
        ("a == 1 2", "Cannot transition token types from NUMERIC [1] to NUMERIC [2]", 7),
        ("a ==", "Unexpected end of expression", 4),
        ("1 + * 2", "Cannot transition token types from MODIFIER [+] to MODIFIER [*]", 4),
        ("(a == b", "Unbalanced parenthesis", 0),
        ("a == b)", "Unbalanced parenthesis", 6),
        ("x == 'abc", "Unclosed string literal", 5),
        ("[abc == 1", "Unclosed parameter bracket", 0),
        ("a ==-1", "Invalid token: '==-'", 2),
        ("a === b", "Invalid token: '==='", 2),
        ("a ! b", "Invalid token: '!'", 2),
        ("1.2.3 == 1", "Unable to parse numeric value '1.2.3'", 0),
        ("0x == 1", "Unable to parse hex value", 0),
        ("x == my.value", "Unable to access unexported field 'value'", 5),
        ("x == v1.Foo", "Accessor 'v1.Foo' cannot be evaluated", 5),
        ("x == a.", "Hanging accessor", 5),
        ("()", "Cannot transition token types from CLAUSE", 1),
        ("   ", "Empty expression", 0),
        ("! !true", "Invalid token: '!'", 2),  # no prefix after a prefix, and '!' is no infix operator
        # a string ends at either quote character
        ('"it\'s" == "it\'s"', "Cannot transition token types from STRING [it] to VARIABLE [s]", 4),
    ],
)
def test_when_parse_errors(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExprError) as info:
        when.parse(text)
    assert message in info.value.message
    assert info.value.offset == offset


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("my-value == x", "Value 'my' cannot be used with the modifier '-', it is not a number", 2),
        ("true && 'x'", "Value 'x' cannot be used with the logical operator '&&', it is not a bool", 5),
        ("1 || true", "Value '1' cannot be used with the logical operator '||', it is not a bool", 2),
        ("'a' > 1", "ordering needs two numbers or two strings", 4),
        ("!'x'", "Value 'x' cannot be used with the prefix '!'", 0),
        ("1 ? 2 : 3", "it is not a bool", 2),
        ("5 =~ '5'", "it is not a string", 2),
        ("'a' =~ '('", "Unable to compile regexp", 4),
        ("1 in 1", "it is not an array", 2),
    ],
)
def test_when_evaluation_errors(text: str, message: str, offset: int) -> None:
    node = when.parse(text)
    with pytest.raises(ExprError) as info:
        when.evaluate(node)
    assert message in info.value.message
    assert info.value.offset == offset


def test_short_circuit_skips_type_errors() -> None:
    assert when.evaluate_when("false && 'x'") is False
    assert when.evaluate_when("true || 'x'") is True


def test_evaluate_when_messages() -> None:
    with pytest.raises(ExprError, match=r"^Expected boolean evaluation for '1 \+ 1'\. Got 2$"):
        when.evaluate_when("1 + 1")
    with pytest.raises(ExprError, match=r"^Invalid 'when' expression 'hello world': Cannot transition"):
        when.evaluate_when("hello world")
    with pytest.raises(ExprError, match=r"hint: try wrapping"):
        when.evaluate_when("a === b")
    with pytest.raises(ExprError, match=r"^Failed to evaluate 'when' expression 'my-value == x': Value 'my'"):
        when.evaluate_when("my-value == x")


def test_when_nesting_limit() -> None:
    assert when.evaluate_when("(" * 32 + "true" + ")" * 32)
    with pytest.raises(ExprError, match="nested deeper"):
        when.parse("(" * 33 + "true" + ")" * 33)


def test_long_chain_evaluates_or_fails_cleanly() -> None:
    node = when.parse(" + ".join(["1"] * 3000) + " > 0")
    try:
        assert when.evaluate(node) is True
    except ExprError as err:
        assert "too long" in err.message


# ---------------------------------------------------------------------------------- check_template


def test_template_acceptance_case_is_clean() -> None:
    assert when.check_template("{{steps.step-a.status}} == Succeeded") == ([], [])
    assert when.check_template("'{{inputs.parameters.msg}}' == 'hello world'") == ([], [])
    assert when.check_template("{{inputs.parameters.n}} > 5") == ([], [])
    assert when.check_template("'{{=sprig.trim(\"a\")}}' == 'a'") == ([], [])
    assert when.check_template("[{{item}}] == 'a'") == ([], [])


def test_template_errors_keep_original_offsets() -> None:
    text = "{{inputs.parameters.msg}} == hello world"
    errors, warnings = when.check_template(text)
    assert len(errors) == 1
    assert "Cannot transition token types" in errors[0].message
    assert text[errors[0].offset :].startswith("world")
    assert any("'hello world' contains spaces" in w for w in warnings)
    assert any("{{inputs.parameters.msg}} is compared without quotes" in w for w in warnings)

    errors, _ = when.check_template("{{a}} == {{b}} &&")
    assert errors[0].message == "Unexpected end of expression"
    assert errors[0].offset == len("{{a}} == {{b}} &&")


def test_template_warnings() -> None:
    _, warnings = when.check_template("{{steps.a.status}} == my-value")
    assert warnings == [
        "unquoted value 'my-value' is read as a subtraction and fails at run time; quote it: 'my-value'"
    ]
    errors, warnings = when.check_template("{{steps.a.status}} == my.value")
    assert errors and any("contains '.'" in w for w in warnings)
    _, warnings = when.check_template("{{x}} == 'a'")
    assert warnings and "{{x}} is compared without quotes" in warnings[0]
    assert when.check_template("{{x}} == 5") == ([], [])
    assert when.check_template("{{x}} - 1 > 0") == ([], [])


# --------------------------------------------------------------------------------------- robustness

_ALPHABET = st.sampled_from(
    [*"AaBb01x._-+*/%<>=!~&|^?:,()[]{}'\"\\ \t", "&&", "||", "{{", "}}", "in", ".Failed"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_ALPHABET, max_size=40).map("".join)))
def test_random_text_only_raises_expr_error(text: str) -> None:
    for parse in (depends.parse, when.parse):
        try:
            parse(text)
        except ExprError as err:
            assert 0 <= err.offset <= len(text)
    with contextlib.suppress(ExprError):
        when.evaluate_when(text)
    when.check_template(text)
