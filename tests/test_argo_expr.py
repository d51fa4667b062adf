"""Argo's expr-lang expressions (``pipeline_ci.argo.expr``): evaluation, errors with positions, no ``eval``,
the lint rule A34 at exact line:col and ``{{=…}}`` / ``valueFrom.expression`` in a real local run.

Origins of the cases marked "argo:": ``argoproj/argo-workflows`` ``examples/expression-tag-template-workflow.yaml``,
``examples/expression-destructure-json.yaml``, ``examples/expression-reusing-verbose-snippets.yaml``,
``examples/conditional-parameters.yaml`` / ``dag-conditional-parameters.yaml``, ``examples/retry-conditional.yaml``,
``docs/variables.md`` ("Expression" and "RetryStrategy"); "expr:" cases follow expr-lang's language definition
(``expr-lang/expr`` ``docs/language-definition.md``, ``parser/operator/operator.go``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline_ci.argo import expr
from pipeline_ci.lint import lint_paths
from pipeline_ci.platforms.local.executor import run_local
from pipeline_ci.platforms.local.executor.scope import SubstitutionError, substitute_text
from pipeline_ci.testing.projects import base_files, root_config

from .conftest import write_files

WEATHER = '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'
SCOPE = {
    "inputs.parameters.foo": "3",
    "inputs.parameters.my-param": "v",
    "inputs.parameters.json": '{"some": {"path": [10, 20]}, "name": "x"}',
    "workflow.parameters.config": '{"a": "1", "b": "2", "c": "3"}',
    "workflow.parameters.weather": WEATHER,
    "steps.flipcoin.outputs.result": "tails",
    "steps.tails.outputs.result": "it was tails",
    "steps.coin-flip.outputs.parameters.result": "5",
    "lastRetry.exitCode": "1",
    "lastRetry.status": "Failed",
    "item": "3",
    "retries": "2",
}
REUSING = """
    map([
        jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')
      ], {
        toJson({
          avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,
          min: sprig.min(#[0], #[1], #[2], #[3], #[4]),
          max: sprig.max(#[0], #[1], #[2], #[3], #[4])
        })
    })[0]
"""

RENDERED = [
    # argo: expression-tag-template-workflow.yaml
    ("toJson(filter([1, 3], {# > 1}))", "[3]"),
    ("item", "3"),
    ("asInt(inputs.parameters.foo) * 10", "30"),
    # argo: expression-destructure-json.yaml
    ("jsonpath(workflow.parameters.config, '$.a')", "1"),
    ("jsonpath(workflow.parameters.config, '$.c')", "3"),
    # argo: expression-reusing-verbose-snippets.yaml (JSON numbers are Go float64; sprig.add/min/max give int64)
    (REUSING, '{"avg":35.8,"max":57,"min":15}'),
    # argo: conditional-parameters.yaml (only the chosen branch is evaluated; heads did not run)
    ("steps.flipcoin.outputs.result == 'heads'? steps.heads.outputs.result : steps.tails.outputs.result",
     "it was tails"),
    # argo: docs/variables.md
    ("[1, 2]", "[1,2]"),
    ("filter([1, 2], { # > 1})", "[2]"),
    ("map([1, 2], { # * 2 })", "[2,4]"),
    ("asInt(inputs.parameters['my-param'] == 'v' ? '7' : '8')", "7"),
    ("asFloat('1.5') * 2", "3"),
    ("string(1)", "1"),
    ("toJson([1, 2])", "[1,2]"),
    ("jsonpath(inputs.parameters.json, '$.some.path')", "[10,20]"),
    ("jsonpath(inputs.parameters.json, '$.some.path[1]')", "20"),
    ("jsonpath(inputs.parameters.json, '$.some.path[*]')", "[10,20]"),
    ("jsonpath(inputs.parameters.json, \"$['name']\")", "x"),
    ("jsonpath(inputs.parameters.json, '$..path[0]')", "[10]"), ("jsonpath(inputs.parameters.json, '$.some.path[0,1]')",
                                                                 "[10,20]"),
    ("jsonpath(inputs.parameters.json, '$.some.path[-1:]')", "[20]"), ("jsonpath(inputs.parameters.json, '$')",
                                                                       '{"name":"x","some":{"path":[10,20]}}'),
    ("sprig.trim('  padded  ')", "padded"),
    ("asInt(lastRetry.exitCode) >= 2", "false"),
    ("lastRetry.exitCode != '2'", "true"),  # argo: retry-conditional.yaml
    ("steps['coin-flip'].outputs.parameters.result", "5"),
    ("asInt(inputs.parameters.foo) == 1 ? steps[\"coin-flip\"].outputs.parameters.result : 'other'", "other"),
    # expr: literals
    ("42", "42"), ("0x1F", "31"), ("0o17", "15"), ("0b101", "5"), ("1_000", "1000"), ("1.5e3", "1500"),
    ("2.50", "2.5"), ("1e6 * 1", "1000000"), ("'it\\'s'[0:4]", "it's"), ('"tab\\there"', "tab\there"),
    ("'\\u00e9'", "é"), ("`raw\\n`", "raw\\n"), ("true", "true"), ("[1, 'a', true]", '[1,"a",true]'),
    ("{b: 2, a: 1}", '{"a":1,"b":2}'), ("{'k-1': 1}['k-1']", "1"), ("{(1 + 1): 'two'}", '{"2":"two"}'),
    # expr: arithmetic
    ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("7 / 2", "3.5"), ("6 / 3", "2"), ("7 % 3", "1"), ("-7 % 3", "-1"),
    ("2 ** 10", "1024"), ("2 ^ 3 ^ 2", "512"), ("-2 ** 2", "-4"), ("1 + 0.5", "1.5"), ("10 - 2 - 3", "5"),
    ("'a' + 'b'", "ab"), ("1 / 0 > 1e308", "true"), ("string(1e6)", "1e+06"), ("string([1, 'a'])", "[1 a]"),
    ("string({b: [1], a: nil})", "map[a:<nil> b:[1]]"),
    # expr: comparison and logic
    ("1 < 2 < 3", "true"), ("3 < 2 < 5", "false"), ("'5' == 5", "false"), ("1 == 1.0", "true"),
    ("'abc' < 'abd'", "true"), ("[1, 2] == [1, 2]", "true"), ("nil == nil", "true"), ("true && false", "false"),
    ("true and not false", "true"), ("false || true", "true"), ("false or false", "false"), ("!true", "false"),
    ("false && 1", "false"), ("true || 1", "true"),
    # expr: conditional and nil
    ("true ? 'y' : 'n'", "y"), ("false ? 'y' : 1 > 2 ? 'a' : 'b'", "b"), ("nil ?? 'd'", "d"),
    ("inputs.parameters.missing ?? 'fallback'", "fallback"), ("steps.nope?.outputs.result ?? 'none'", "none"),
    ("false ?: 'e'", "e"), ("true ?: 'e'", "true"),
    # expr: membership and strings
    ("'a' in ['a', 'b']", "true"), ("'c' not in ['a', 'b']", "true"), ("'foo' in {foo: 1}", "true"),
    ("'abc' matches '^a.c$'", "true"), ("'abc' not matches 'z'", "true"), ("'hello' contains 'ell'", "true"),
    ("'hello' startsWith 'he'", "true"), ("'hello' endsWith 'lo'", "true"), ("'hello' not startsWith 'x'", "true"),
    ("inputs.parameters.foo + '!'", "3!"),
    # expr: member, index, slice, range, pipe, let
    ("[1, 2, 3][0]", "1"), ("[1, 2, 3][-1]", "3"), ("[1, 2, 3, 4][1:3]", "[2,3]"), ("[1, 2, 3][:2]", "[1,2]"),
    ("[1, 2, 3][1:]", "[2,3]"), ("'hello'[1:3]", "el"), ("1..4", "[1,2,3,4]"), ("'a' | upper()", "A"),
    ("[3, 1, 2] | sort() | map(string(#)) | join(', ')", "1, 2, 3"),
    ("let x = 4; x * x", "16"), ("{a: {b: [5]}}.a.b[0]", "5"),
    # expr: builtins
    ("len('héllo')", "6"), ("len([1, 2])", "2"), ("abs(-2.5)", "2.5"), ("int('42') + 1", "43"), ("int(3.9)", "3"),
    ("float('2')", "2"), ("upper('a') + lower('B')", "Ab"), ("trim('  x ')", "x"), ("trimPrefix('v1.2', 'v')", "1.2"),
    ("trimSuffix('a.txt', '.txt')", "a"), ("split('a,b,c', ',')", '["a","b","c"]'), ("split('a,b,c', ',', 2)", '["a","b,c"]'),
    ("replace('aaa', 'a', 'b')", "bbb"), ("repeat('ab', 2)", "abab"), ("join(['a', 'b'], '-')", "a-b"),
    ("indexOf('hello', 'l')", "2"), ("hasPrefix('hello', 'he')", "true"), ("max(1, 5, 3)", "5"),
    ("min([4, 2, 8])", "2"), ("sum([1, 2, 3])", "6"), ("mean([1, 2])", "1.5"), ("first([7, 8])", "7"),
    ("last([7, 8])", "8"), ("keys({a: 1})", '["a"]'), ("values({a: 1})", "[1]"), ("reverse([1, 2])", "[2,1]"),
    ("uniq([1, 1, 2])", "[1,2]"), ("concat([1], [2])", "[1,2]"), ("flatten([[1], [2, [3]]])", "[1,2,3]"),
    ("take([1, 2, 3], 2)", "[1,2]"), ("fromJSON('{\"a\": [1]}').a[0]", "1"), ("toBase64('hi')", "aGk="),
    ("fromBase64('aGk=')", "hi"), ("type(1.5)", "float"), ("get({a: 1}, 'b') ?? 'none'", "none"),
    ("toJSON({b: 1})", '{\n  "b": 1\n}'),
    # expr: closures
    ("all([1, 2], # > 0)", "true"), ("any([1, 2], # > 1)", "true"), ("none([1, 2], # > 5)", "true"),
    ("one([1, 2], # > 1)", "true"), ("count([1, 2, 3], # >= 2)", "2"), ("find([1, 2, 3], # > 1)", "2"),
    ("findIndex([1, 2, 3], # > 1)", "1"), ("findLast([1, 2, 3], # < 3)", "2"), ("sum([1, 2], # * 10)", "30"),
    ("map([{n: 1}, {n: 2}], .n)", "[1,2]"), ("filter([{n: 1}, {n: 2}], #.n > 1)", '[{"n":2}]'),
    ("map(['a', 'b'], #index)", "[0,1]"), ("reduce([1, 2, 3], #acc + #, 10)", "16"),
    ("sortBy([3, 1, 2], #)", "[1,2,3]"), ("groupBy([1, 2, 3], # % 2 == 0)", '{"false":[1,3],"true":[2]}'),
    ("map(filter([1, 2, 3], # > 1), # * 2)", "[4,6]"),
    # sprig (Argo exposes sprig.GenericFuncMap; arguments are in pipeline order, the subject last)
    ("sprig.upper('a')", "A"), ("sprig.lower('A')", "a"), ("sprig.replace('a', 'b', 'banana')", "bbnbnb"),
    ("sprig.trimPrefix('refs/heads/', 'refs/heads/main')", "main"), ("sprig.trimSuffix('.tgz', 'x.tgz')", "x"),
    ("sprig.toString(1.5)", "1.5"), ("sprig.toJson(sprig.dict('a', '<b>'))", '{"a":"\\u003cb\\u003e"}'),
    ("sprig.int('12')", "12"), ("sprig.int('nope')", "0"), ("sprig.atoi('7')", "7"), ("sprig.atoi('x')", "0"),
    ("sprig.int(retries) + 1", "3"), ("sprig.add(1, '2', 3.9)", "6"), ("sprig.sub(5, 7)", "-2"),
    ("sprig.mul(2, 3, 4)", "24"), ("sprig.div(7, 2)", "3"), ("sprig.div(-7, 2)", "-3"), ("sprig.mod(7, 3)", "1"),
    ("sprig.max(1, '9', 3)", "9"), ("sprig.min(4, 2)", "2"), ("sprig.empty('')", "true"), ("sprig.empty(0)", "true"),
    ("sprig.empty([1])", "false"), ("sprig.default('d', '')", "d"), ("sprig.default('d', 'v')", "v"),
    ("sprig.list(1, 2)", "[1,2]"), ("sprig.first(sprig.list(1, 2))", "1"), ("sprig.last(sprig.list(1, 2))", "2"),
    ("sprig.dict('a', 1, 'b', 2)", '{"a":1,"b":2}'), ("sprig.fromJson('{\"a\": 2}').a", "2"),
    ("sprig.splitList(',', 'a,b')", '["a","b"]'), ("sprig.split(',', 'a,b')._1", "b"), ("sprig.join('-', [1, 'a'])", "1-a"),
    ("sprig.contains('ell', 'hello')", "true"), ("sprig.hasPrefix('he', 'hello')", "true"),
    ("sprig.b64enc('hi')", "aGk="), ("sprig.b64dec('aGk=')", "hi"), ("sprig.quote('a')", '"a"'),
    ("sprig.sha256sum('hello world')", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
    ("sprig.regexMatch('^[a-z]+$', 'abc')", "true"), ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
    ("sprig.regexFindAll('[0-9]', 'a1b2', -1)", '["1","2"]'), ("sprig.ternary('y', 'n', 1 > 2)", "n"),
    ("sprig.coalesce('', nil, 'c')", "c"), ("sprig.trunc(2, 'hello')", "he"), ("sprig.substr(1, 3, 'hello')", "el"),
    ("sprig.base('/a/b.txt')", "b.txt"), ("sprig.until(3)", "[0,1,2]"), ("sprig.title('hello world')", "Hello World"),
    ("sprig.snakecase('HelloWorld x')", "hello_world_x"), ("sprig.kebabcase('myParam_name')", "my-param-name"),
    ("sprig.camelcase('my_param')", "MyParam"), ("sprig.abbrev(5, 'hello world')", "he..."),
    ("sprig.plural('one', 'many', 2)", "many"), ("len(sprig.randAlphaNum(8))", "8"), ("sprig.chunk(2, [1, 2, 3])", "[[1,2],[3]]"),
    ("sprig.dig('a', 'b', 'd', {a: {b: 1}})", "1"), ("sprig.mergeOverwrite({a: 1}, {a: 2})", '{"a":2}'),
    ("sprig.slice([1, 2, 3], 1)", "[2,3]"), ("sprig.slice([1, 2, 3], 0, 2)", "[1,2]"), ("sprig.mustFirst([3])", "3"),
    ("sprig.semverCompare('>=1.2.0, <2', 'v1.4.1')", "true"), ("sprig.semverCompare('!=1.4.1', '1.4.1')", "false"),
    ("sprig.initials('Hello World')", "HW"), ("sprig.hello()", "Hello!"),
]


@pytest.mark.parametrize(("text", "expected"), RENDERED)
def test_rendered_values(text, expected):
    assert expr.render(text, SCOPE) == expected


def test_values_keep_their_types_and_env_expands_like_argo():
    assert expr.evaluate("asInt('5') + 1", {}) == 6
    assert isinstance(expr.evaluate("7 / 7", {}), float)
    assert expr.evaluate("jsonpath('{\"n\": 1}', '$.n')", {}) == 1.0  # JSON numbers are float64
    env = expr.expand({"item": "{}", "item.a": "1", "steps.s.outputs.parameters": "[]",
                       "steps.s.outputs.parameters.p": "x"})
    assert env == {"item": {"a": "1"}, "steps": {"s": {"outputs": {"parameters": {"p": "x"}}}}}
    assert expr.evaluate_bool("asInt(lastRetry.exitCode) < 2", SCOPE) is True
    assert expr.evaluate_field("asInt(lastRetry.exitCode) > 0 && {{inputs.parameters.safe}} == true",
                               {**SCOPE, "inputs.parameters.safe": "true"}) is True  # argo: docs retries
    assert expr.substitute_tags("x{{=1 + 1}}y{{unknown}}", {}) == "x2y{{unknown}}"
    assert expr.go_json({"b": [1.0, 0.5, 1e21], "a": "é<"}) == '{"a":"é\\u003c","b":[1,0.5,1e+21]}'


ERRORS = [
    # (expression, message fragment, 1-based column)
    ("1 +", "unexpected end of expression", 4),
    ("(1 + 2", "unexpected end of expression", 7),
    ("[1, 2", "unexpected end of expression", 6),
    ("1 2", "unexpected token number '2'", 3),
    ("'abc", "literal not terminated", 1),
    ("a @ b", "unrecognized character", 3),
    ("1 ?? 2 + 3", "cannot be mixed", 8),
    ("'\\q'", "invalid escape", 2),
    ("12abc", "bad number syntax", 1),
    ("inputs.parameters.foo.", "unexpected end of expression", 23),
    ("{a 1}", "unexpected token number '1'", 4),
    ("#", "pointer accessor outside a closure", 1),
    ("nosuch(1)", "unknown function nosuch()", 1),
    ("unknownVar + 1", "unknown name unknownVar", 1),
    ("1 + 'a'", "mismatched types int and string", 3),
    ("'a' < 1", "mismatched types string and int", 5),
    ("1 % 0", "integer divide by zero", 3),
    ("2.5 % 2", "mismatched types float64 and int", 5),
    ("1 && true", "needs a bool, got int", 3),
    ("1 ? 2 : 3", "needs a bool", 3),
    ("[1][5]", "index out of range: 5", 4),
    ("inputs.parameters.nope.baz", "cannot fetch baz from nil (nothing named 'nope' here)", 19),
    ("inputs.parameters.foo.bar", "cannot fetch bar from string", 23),
    ("asInt('x1')", "invalid operation: int(x1)", 1),
    ("1 / 0", "failed to marshal evaluated expression: json: unsupported value: +Inf", 1),
    ("'' ?: 'x'", "ternary operator needs a bool, got string", 4),
    ("  asInt(inputs.parameters.foo) + sprig.nope(1)", "sprig.nope is not a Sprig function", 40),
    ("sprig.seq(1, 2)", "not supported by pipeline-ci's local evaluator", 7),
    ("'a' matches '(?=x)'", "Unable to compile regexp pattern", 5),
    ("inputs.parameters.missing", "the result is nil (nothing named 'missing' here)", 19),
    ("now()", "now() is not supported", 1),
    ("jsonpath(inputs.parameters.json, '$.some[?(@.x)]')", "unsupported or invalid selector at character 7", 1),
    ("jsonpath(inputs.parameters.json, '$.nope')", "nope not found in '$.nope'", 1),
    ("jsonpath('not json', '$')", "the JSON document: invalid JSON", 1),
    ("let x = 1 x", "expected ';'", 11),
]


@pytest.mark.parametrize(("text", "fragment", "column"), ERRORS)
def test_errors_carry_the_column(text, fragment, column):
    with pytest.raises(expr.ExpressionError) as caught:
        expr.render(text, SCOPE)
    assert fragment in caught.value.message
    assert caught.value.column == column, caught.value.message


HOSTILE = [
    "__import__('os').system('true')",
    "eval('1')",
    "open('/etc/passwd')",
    "''.__class__",
    "().__class__.__bases__",
    "[].__class__",
    "exec",
    "sprig.__class__",
    "globals()",
    "lambda: 1",
    "{{7*7}}",
    "1; import os",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_python_is_ever_evaluated(text):
    with pytest.raises(expr.ExpressionError):
        expr.render(text, SCOPE)


FUZZ_ATOMS = ["1", "2.5", "'a'", "`c`", "nil", "true", "inputs.parameters.foo", "[1,2]", "{a: 1}", "#", ".x", "(", ")",
              "[", "]", "{", "}", ",", ":", "?", "??", "?.", "+", "-", "*", "/", "%", "**", "==", "<", "&&", "!", "not",
              "in", "matches", "..", "|", "let", "x", "=", ";", "map", "reduce", "#acc", "len", "sprig.trim",
              "sprig.dict", "asInt", "jsonpath", "0x1F", "1e400", "\\", "'\\u12'"]


def test_random_token_soup_only_ever_raises_expression_errors():
    rnd = random.Random(12)
    for _ in range(3000):
        text = " ".join(rnd.choice(FUZZ_ATOMS) for _ in range(rnd.randint(1, 10)))
        for call in (lambda t: expr.render(t, SCOPE), expr.check, expr.local_gaps,
                     lambda t: expr.missing_variables(t, SCOPE)):
            try:
                call(text)
            except expr.ExpressionError:
                pass


def test_sprig_cannot_be_changed_for_later_evaluations():
    assert expr.render("sprig.set(sprig, 'trim', 1).trim", {}) == "1"
    assert expr.render("sprig.trim(' a ')", {}) == "a"


def test_hostile_sizes_end_with_an_error():
    with pytest.raises(expr.ExpressionError, match="nested deeper"):
        expr.parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(expr.ExpressionError, match="nested deeper than 200"):
        expr.parse(" + ".join(["1"] * 500))
    assert expr.check(" + ".join(["1"] * 500))[0].message.startswith("expression nested deeper")
    with pytest.raises(expr.ExpressionError, match="too large"):
        expr.render("len(1..100000000)", {})
    with pytest.raises(expr.ExpressionError, match="too expensive"):
        expr.render("map(1..999999, map(1..999999, #))", {})
    with pytest.raises(expr.ExpressionError, match="result too large"):
        expr.render("repeat('x', 100000000)", {})


CHECKS = [
    ("asInt(inputs.parameters.foo) + 1", []),
    ("sprig.date('2006', workflow.creationTimestamp)", []),
    ("sprig.semverCompare('>1', '2')", []),  # a real Sprig function: valid for Argo, even if not local
    ("let x = 1; x + steps.a.outputs.result", []),
    ("map([1], # + 1)", []),
    ("nosuch(1)", [("unknown function nosuch()", 1)]),
    ("sprig.nosuch(1)", [("unknown function sprig.nosuch() (not a Sprig function)", 7)]),
    ("sprig.env('HOME')", [("unknown function sprig.env() (Argo removes it)", 7)]),
    ("input.parameters.x", [("unknown name input", 1)]),
    ("'x' matches '(a'", [("Unable to compile regexp pattern", 13)]),
    ("1 +", [("unexpected end of expression", 4)]),
    ("__import__('os')", [("unknown function __import__()", 1)]),
    ("asInt(inputs.parameters.x) + (1 + 'a')", [("mismatched types int and string", 33)]),
    ("[1, 2][5] ?? 0", [("index out of range", 7)]),
    ("1 + 2 > 2 ? 'a' : 'b'", []),
]


@pytest.mark.parametrize(("text", "expected"), CHECKS)
def test_static_check(text, expected):
    got = [(e.message, e.column) for e in expr.check(text)]
    assert len(got) == len(expected)
    for (message, column), (fragment, want) in zip(got, expected, strict=True):
        assert fragment in message and column == want


def test_check_accepts_masked_tags_only_when_asked():
    text = "asInt(lastRetry.exitCode) > 1 && {{inputs.parameters.safe-to-retry}} == true"
    masked = expr.mask_tags(text)
    assert "{" not in masked and len(masked) == len(text)
    assert expr.check(masked, placeholders=True) == []
    tag = "{{inputs.parameters.safe-to-retry}}"
    assert [e.message.split(" (")[0] for e in expr.check(masked)] == ["unknown name " + "_" * len(tag)]


def test_executor_substitution_evaluates_expression_tags():
    scope = {"inputs.parameters.x": "4", "workflow.parameters.name": "w"}
    assert substitute_text("n={{=asInt(inputs.parameters.x) * 2}} {{workflow.parameters.name}}", scope,
                           strict=True) == "n=8 w"
    late = "{{=steps.a.outputs.result + '!'}}"
    assert substitute_text(late, scope, strict=False) == late  # resolved later, like Argo's allowUnresolved
    with pytest.raises(SubstitutionError, match=r"the result is nil .*at character 19"):
        substitute_text("{{=inputs.parameters.nope}}", scope, strict=True)
    with pytest.raises(SubstitutionError, match="unexpected end of expression"):
        substitute_text("{{=1 +}}", scope, strict=True)


# ------------------------------------------------------------------------------------------ lint A34

LINT_SPEC = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: p-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: input_text
      value: hi
  templates:
  - name: main
    inputs:
      parameters:
      - name: plain
        value: ok {{=1 +}}
      - name: double
        value: "\\t{{=sprig.nosuch(1)}}"
      - name: single
        value: 'it''s {{=nosuch(2)}}'
      - name: fine
        value: "{{=asInt(workflow.parameters.input_text ?? '1') + 1}}"
      - name: block
        value: |
          line one
            {{=input.parameters.x}}
    retryStrategy:
      limit: "2"
      expression: "asInt(lastRetry.exitCode) > 1 && {{inputs.parameters.plain}} == true &&"
    script:
      image: python:3.12
      command: [python]
      source: print(1)
    outputs:
      parameters:
      - name: out
        valueFrom:
          expression: "steps['a'].outputs.result ?? 'x'"
"""


def test_lint_reports_each_expression_error_at_its_line_and_column(tmp_path):
    files = base_files()
    files["config.yaml"] = root_config(LINT_SPEC)
    root = write_files(tmp_path / "proj", files)
    found = [f for f in lint_paths([root]).findings if f.rule == "A34"]
    lines = (root / "config.yaml").read_text().splitlines()

    def where(needle: str, inside: str) -> tuple[int, int]:
        row = next(i for i, line in enumerate(lines) if inside in line)
        return row + 1, lines[row].index(needle) + 1

    got = {(f.line, f.col) for f in found}
    assert all(f.severity == "error" for f in found)
    retry_line = where("expression:", "expression: \"asInt")[0]
    assert got == {
        where("}}", "ok {{=1 +}}"),  # the end of the expression
        where("nosuch(1)", "sprig.nosuch"),  # the unknown name after sprig.
        where("nosuch(2)", "nosuch(2)"),
        where("input.", "{{=input.parameters.x}}"),
        (retry_line, lines[retry_line - 1].rindex("\"") + 1),  # the end of the retryStrategy expression
    }, [(f.line, f.col, f.message) for f in found]
    messages = " | ".join(f.message for f in found)
    assert "unknown function sprig.nosuch()" in messages and "unknown name input" in messages
    assert "retryStrategy.expression" in messages


def test_lint_reports_parameters_nobody_declares(tmp_path):
    spec = LINT_SPEC.replace("value: ok {{=1 +}}", "value: \"{{=asInt(inputs.parameters.plian) + 1}}\"")
    spec = spec.replace("input_text ?? '1'", "input_txt")
    spec = spec.replace("expression: \"steps['a'].outputs.result ?? 'x'\"",
                        "expression: \"inputs.parameters.nope ?? workflow.parameters['input_text']\"")
    files = base_files()
    files["config.yaml"] = root_config(spec)
    root = write_files(tmp_path / "proj", files)
    found = {f.message: (f.line, f.col) for f in lint_paths([root]).findings if f.rule == "A34"}
    lines = (root / "config.yaml").read_text().splitlines()
    plian = next(m for m in found if "'plian'" in m)
    assert "the template declares no input parameter 'plian'" in plian and "did you mean 'plain'?" in plian
    row = next(i for i, line in enumerate(lines) if "plian" in line)
    assert found[plian] == (row + 1, lines[row].index("plian") + 1)
    txt = next(m for m in found if "input_txt" in m)
    assert "no workflow parameter 'input_txt' (declared: input_text)" in txt
    assert not any("nope" in m for m in found)  # on the left of ??: a missing value is fine


# ------------------------------------------------------------------------------------------ end to end

E2E_SPEC = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: expression-tag-template-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: input_text
      value: hi
    - name: config
      value: '{"a": "1", "b": "2"}'
  templates:
  - name: main
    steps:
    - - name: flipcoin
        template: flip
    - - name: heads
        template: say
        when: "{{steps.flipcoin.outputs.result}} == heads"
        arguments:
          parameters:
          - name: msg
            value: heads
      - name: tails
        template: say
        when: "{{steps.flipcoin.outputs.result}} == tails"
        arguments:
          parameters:
          - name: msg
            value: "{{=sprig.upper('tails') + '-' + jsonpath(workflow.parameters.config, '$.b')}}"
    - - name: task-0
        template: pod-0
        arguments:
          parameters:
          - name: foo
            value: "{{=item}}"
        withParam: "{{=toJson(filter([1, 3], {# > 1}))}}"
    outputs:
      parameters:
      - name: stepresult
        valueFrom:
          expression: "steps.flipcoin.outputs.result == 'heads'? steps.heads.outputs.result : steps.tails.outputs.result"
  - name: flip
    script:
      image: python:3.12
      command: [python]
      source: print("tails")
  - name: say
    inputs:
      parameters:
      - name: msg
    script:
      image: python:3.12
      command: [python]
      source: print("{{inputs.parameters.msg}}")
  - name: pod-0
    inputs:
      parameters:
      - name: foo
    script:
      image: python:3.12
      command: [python]
      source: print("hello {{=asInt(inputs.parameters.foo) * 10}}")
"""


def test_run_local_evaluates_expression_tags_and_expression_outputs(tmp_path):
    """argo: expression-tag-template-workflow.yaml and conditional-parameters.yaml, as script templates."""
    files = base_files()
    files["config.yaml"] = root_config(E2E_SPEC)
    root = write_files(tmp_path / "proj", files)
    run = subprocess.run([sys.executable, "-m", "pipeline_ci", "run", str(root), "--backend", "local",
                          "--isolation", "none"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stdout + run.stderr
    record = json.loads(next((root / ".pipeline-ci" / "runs").glob("*/record.json")).read_text())
    assert record["phase"] == "Succeeded"
    logs = {node["name"]: Path(node["log"]).read_text() for node in record["nodes"] if node.get("log")}
    assert "TAILS-2" in logs["tails"] and "hello 30" in logs["task-0(0:3)"], logs
    assert {n["name"]: n["phase"] for n in record["nodes"]}["heads"] == "Skipped"
    root_node = next(n for n in record["nodes"] if n["parent"] is None)
    assert root_node["outputs"] == {"stepresult": "TAILS-2"}  # valueFrom.expression of the steps template


def test_run_local_reports_a_bad_expression_tag_with_its_column(tmp_path):
    files = base_files()
    spec = E2E_SPEC.replace("{{=asInt(inputs.parameters.foo) * 10}}", "{{=asInt(inputs.parameters.fo) * 10}}")
    files["config.yaml"] = root_config(textwrap.dedent(spec))
    root = write_files(tmp_path / "proj", files)
    argv = [sys.executable, "-m", "pipeline_ci", "run", str(root), "--backend", "local", "--isolation", "none"]
    gated = subprocess.run(argv, capture_output=True, text=True, timeout=120)  # run's lint gate: nothing starts
    assert gated.returncode == 2 and "config.yaml:73:61: error [A34]" in gated.stdout, gated.stdout + gated.stderr
    findings = [f for f in lint_paths([root]).findings if f.rule == "A34"]
    assert len(findings) == 1 and "declares no input parameter 'fo'" in findings[0].message
    (root / ".pipeline-ci.yaml").write_text("disable: [A34]\n")  # past the gate, the executor reports it too
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "asInt(): invalid operation: int(nil) (nothing named 'fo' here) (at character 25)" in run.stdout


def test_missing_variables_wait_at_the_workflow_level():
    """argo: util/template/expression_template.go ``anyVarNotInEnv`` (issues #5388, #10393 and #15008)."""
    tag = "{{=sprig.int(retries) + 1}}"
    assert expr.missing_variables("sprig.int(retries)", {}) == ["retries"]
    assert expr.missing_variables("sprig.int(retries)", {"retries": "1"}) == []
    assert expr.missing_variables("'retries' + workflow.name", {"workflow.name": "w"}) == []  # a string
    assert expr.missing_variables("workflow.status == 'Succeeded' ?: steps.a?.outputs ?? 1",
                                  {"workflow.name": "w"}) == ["workflow.status", "steps.a.outputs"]
    assert expr.missing_variables("let retries = 1; retries + item.a", {"item.a": "2"}) == []
    assert substitute_text(tag, {}, strict=False) == tag
    assert substitute_text(tag, {"retries": "2"}, strict=False) == "3"
    late = "{{=inputs.parameters.x ?? 'default'}}"
    assert substitute_text(late, {"inputs.parameters.y": "1"}, strict=False) == late
    assert substitute_text(late, {"inputs.parameters.y": "1"}, strict=True) == "default"
    assert substitute_text("{{=workflow.status == 'Failed'}}", {"workflow.name": "w"}, strict=True) == "false"


def test_functions_missing_locally_are_warnings_and_refused_by_a_local_run(tmp_path):
    spec = LINT_SPEC.replace("value: ok {{=1 +}}", "value: \"{{=sprig.bcrypt('pw')}}\"")
    files = base_files()
    files["config.yaml"] = root_config(spec)
    root = write_files(tmp_path / "proj", files)
    found = [f for f in lint_paths([root]).findings if "bcrypt" in f.message]
    assert [(f.rule, f.severity, "not in the local evaluator" in f.message) for f in found] == [("A41", "warning", True)]
    from pipeline_ci.platforms.local.executor import run_local

    lines: list[str] = []
    result = run_local(root, isolation="none", out=lines.append)
    assert result.exit_code == 2 and result.run_id is None and any("bcrypt" in line for line in lines), lines
    assert [e.message for e in expr.local_gaps("now() + sprig.trim('x')")] == [
        "now() is not supported by pipeline-ci's local evaluator"]


DESTRUCTURE_SPEC = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: expression-destructure-json-
spec:
  arguments:
    parameters:
      - name: input_text
        value: hi
      - name: config
        value: '{"a": "1", "b": "2", "c": "3"}'
      - name: weather
        value: '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'
  entrypoint: main
  templates:
    - name: main
      inputs:
        parameters:
          - name: a
            value: "{{=jsonpath(workflow.parameters.config, '$.a')}}"
          - name: b
            value: "{{=jsonpath(workflow.parameters.config, '$.b')}}"
          - name: week-temps
            value: >-
              {{=
                map([
                    jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')
                  ], {
                    toJson({
                      avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,
                      min: sprig.min(#[0], #[1], #[2], #[3], #[4]),
                      max: sprig.max(#[0], #[1], #[2], #[3], #[4])
                    })
                })[0]
              }}
      script:
        env:
          - name: A
            value: "{{inputs.parameters.a}}"
          - name: B
            value: "{{inputs.parameters.b}}"
          - name: AVG
            value: "{{=jsonpath(inputs.parameters['week-temps'], '$.avg')}}"
        image: python:3.12
        command: [python]
        source: |
          import os; print(os.environ["A"] + os.environ["B"] + " avg=" + os.environ["AVG"])
"""


def test_run_local_destructures_json_with_expressions(tmp_path):
    """argo: expression-destructure-json.yaml and expression-reusing-verbose-snippets.yaml in one template
    (python instead of busybox; input values and env values are expression tags)."""
    files = base_files()
    files["config.yaml"] = root_config(DESTRUCTURE_SPEC)
    root = write_files(tmp_path / "proj", files)
    lines: list[str] = []
    result = run_local(root, out=lines.append, isolation="none", parallelism=4)
    assert result.phase == "Succeeded", lines
    assert any(line.endswith("12 avg=35.8") for line in lines), lines
    assert [f for f in lint_paths([root]).findings if f.rule == "A34"] == []
