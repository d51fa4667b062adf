"""What ``pipeline-ci init`` writes: the built-in project templates (pure: ids in, ``{relative path: text}`` out).

Each template is a complete Clarifai Pipelines project in the layout ``clarifai pipeline init`` creates (a root
``config.yaml`` with the Argo spec, one folder per step with ``config.yaml``, ``requirements.txt`` and
``1/pipeline_step.py``); the steps use the standard library only, write their output parameter ``result`` to
``$TMPDIR/result`` (the Clarifai convention) and lint clean; ``deploy --backend local --run`` runs them as they
are (the training template with its example secrets file, see :data:`TEMPLATES`).

- ``single``: one step.
- ``dag``: a fan-out and fan-in (``split`` → ``count-a`` / ``count-b`` → ``merge``).
- ``training``: workflow parameters with allowed values, three steps (``prepare-data`` → ``train`` →
  ``evaluate``), and a secret (``TRACKING_TOKEN``) mapped to the ``train`` task.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Ids:
    pipeline_id: str
    user_id: str
    app_id: str

    def ref(self, step: str) -> str:
        return yaml_str(f"users/{self.user_id}/apps/{self.app_id}/pipeline_steps/{step}")


def yaml_str(value: str) -> str:
    """``value`` written as a YAML scalar that loads back as that string: as it is when it does (``demo-user``), else
    double-quoted (``"123"``, ``"a #b"``). The ids are the user's: which ones are usable is lint's business (``init``
    lints the project before writing it), the templates only write them faithfully."""
    try:
        plain = "\n" not in value and yaml.safe_load(f"k: {value}\n") == {"k": value}
    except yaml.YAMLError:
        plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    default: str | None = None
    accepted: tuple[str, ...] = ()


_HEADER = '''"""{doc}"""

import argparse
import json
import os
import tempfile

RESULT_FILE = os.path.join(tempfile.gettempdir(), "result")


def write_result(value) -> None:
    """The step's output parameter ``result`` (read downstream as ``{{{{tasks.<task>.outputs.parameters.result}}}}``)."""
    with open(RESULT_FILE, "w", encoding="utf-8") as fh:
        fh.write(value if isinstance(value, str) else json.dumps(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
{arguments}    args = parser.parse_args()
{body}

if __name__ == "__main__":
    main()
'''


def _step(ids: Ids, step: str, doc: str, params: list[Param], body: str) -> dict[str, str]:
    lines = [f"pipeline_step:\n  id: {step}\n  user_id: {yaml_str(ids.user_id)}\n  app_id: {yaml_str(ids.app_id)}\n"
             "  visibility:\n    gettable: PRIVATE\n", "pipeline_step_input_params:\n"]
    arguments = ""
    for p in params:
        lines.append(f"  - name: {p.name}\n    description: {p.description}\n")
        if p.default is not None:
            lines.append(f'    default: "{p.default}"\n')
        if p.accepted:
            lines.append("    accepted_values: [" + ", ".join(f'"{v}"' for v in p.accepted) + "]\n")
        required = "required=True" if p.default is None else f'default="{p.default}"'
        choices = f", choices={list(p.accepted)!r}" if p.accepted else ""
        arguments += f'    parser.add_argument("--{p.name}", {required}{choices}, help="{p.description}")\n'
    lines.append('build_info:\n  python_version: "3.12"\npipeline_step_compute_info:\n  cpu_limit: 500m\n'
                 "  cpu_memory: 500Mi\n  num_accelerators: 0\n")
    script = _HEADER.format(doc=doc, arguments=arguments, body=body)
    return {f"{step}/config.yaml": "".join(lines), f"{step}/requirements.txt": "# standard library only\n",
            f"{step}/1/pipeline_step.py": script}


def _root(ids: Ids, title: str, steps: list[str], spec: str, extra: str = "") -> dict[str, str]:
    indented = "".join(f"      {line}\n" if line else "\n" for line in spec.strip("\n").split("\n"))
    folders = "".join(f"    - {s}\n" for s in steps)
    text = (f"# {title}\npipeline:\n  id: {yaml_str(ids.pipeline_id)}\n  user_id: {yaml_str(ids.user_id)}\n"
            f"  app_id: {yaml_str(ids.app_id)}\n"
            f"  visibility:\n    gettable: PRIVATE\n  step_directories:\n{folders}  orchestration_spec:\n"
            f"    argo_orchestration_spec: |\n{indented}{extra}")
    return {"config.yaml": text}


def _task(ids: Ids, name: str, step: str, arguments: dict[str, str], depends: str | None = None) -> str:
    args = "".join(f"              - name: {k}\n                value: \"{v}\"\n" for k, v in arguments.items())
    after = f"            depends: {depends}\n" if depends else ""
    return (f"          - name: {name}\n{after}            templateRef:\n              name: {ids.ref(step)}\n"
            f"              template: {ids.ref(step)}\n            arguments:\n              parameters:\n{args}")


def argo_name(text: str) -> str:
    """``text`` as an Argo workflow name allows it (Clarifai ids may hold ``_`` and capitals, Argo names may not): the
    workflows' ``generateName``, and the pipeline id ``init`` makes from a folder name."""
    return text.lower().replace("_", "-")


def _workflow_prefix(ids: Ids) -> str:
    return argo_name(ids.pipeline_id) + "-"


def _workflow(ids: Ids, parameters: dict[str, str], tasks: list[str]) -> str:
    params = "".join(f"      - name: {k}\n        value: \"{v}\"\n" for k, v in parameters.items())
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: {yaml_str(_workflow_prefix(ids))}\n"
            f"spec:\n  entrypoint: main\n  arguments:\n    parameters:\n{params}  templates:\n    - name: main\n"
            "      dag:\n        tasks:\n" + "".join(tasks))


def single(ids: Ids) -> dict[str, str]:
    files = _root(ids, f"{ids.pipeline_id}: one step that greets.", ["hello"],
                  _workflow(ids, {"name": "world"}, [_task(ids, "hello", "hello", {"name": "{{workflow.parameters.name}}"})]))
    files.update(_step(ids, "hello", "hello: greet someone and return the greeting as `result`.",
                       [Param("name", "Who to greet.", "world")],
                       '    greeting = f"Hello, {args.name}!"\n    print(greeting)\n    write_result(greeting)\n'))
    return files


def dag(ids: Ids) -> dict[str, str]:
    tasks = [
        _task(ids, "split", "split", {"text": "{{workflow.parameters.text}}"}),
        _task(ids, "count-a", "count", {"words": "{{tasks.split.outputs.parameters.result}}", "half": "first"}, "split"),
        _task(ids, "count-b", "count", {"words": "{{tasks.split.outputs.parameters.result}}", "half": "second"}, "split"),
        _task(ids, "merge", "merge", {"a": "{{tasks.count-a.outputs.parameters.result}}",
                                      "b": "{{tasks.count-b.outputs.parameters.result}}"}, "count-a && count-b"),
    ]
    files = _root(ids, f"{ids.pipeline_id}: split a text, count each half in parallel, merge the counts.",
                  ["split", "count", "merge"], _workflow(ids, {"text": "one two three two one one"}, tasks))
    files.update(_step(ids, "split", "split: the words of a text, as a JSON list.", [Param("text", "The text to split.")],
                       "    words = args.text.split()\n    print(f\"split: {len(words)} words\")\n"
                       "    write_result(words)\n"))
    files.update(_step(ids, "count", "count: how often each word occurs in one half of a JSON list of words.",
                       [Param("words", "A JSON list of words."),
                        Param("half", "Which half to count.", "first", ("first", "second"))],
                       "    words = json.loads(args.words)\n    middle = len(words) // 2\n"
                       "    part = words[:middle] if args.half == \"first\" else words[middle:]\n"
                       "    counts = {w: part.count(w) for w in sorted(set(part))}\n"
                       "    print(f\"count[{args.half}]: {counts}\")\n    write_result(counts)\n"))
    files.update(_step(ids, "merge", "merge: add two JSON word counts.",
                       [Param("a", "A JSON mapping word -> count."), Param("b", "A JSON mapping word -> count.")],
                       "    total = json.loads(args.a)\n    for word, n in json.loads(args.b).items():\n"
                       "        total[word] = total.get(word, 0) + n\n    print(f\"merge: {total}\")\n"
                       "    write_result(total)\n"))
    return files


def training(ids: Ids) -> dict[str, str]:
    parameters = {"epochs": "3", "learning_rate": "0.1", "optimizer": "sgd"}
    tasks = [
        _task(ids, "prepare-data", "prepare-data", {"samples": "20"}),
        _task(ids, "train", "train", {"data": "{{tasks.prepare-data.outputs.parameters.result}}",
                                      "epochs": "{{workflow.parameters.epochs}}",
                                      "learning_rate": "{{workflow.parameters.learning_rate}}",
                                      "optimizer": "{{workflow.parameters.optimizer}}"}, "prepare-data"),
        _task(ids, "evaluate", "evaluate", {"data": "{{tasks.prepare-data.outputs.parameters.result}}",
                                            "model": "{{tasks.train.outputs.parameters.result}}"}, "train"),
    ]
    secrets = ("  config:\n    step_version_secrets:\n      train:\n"
               f"        TRACKING_TOKEN: {yaml_str(f'users/{ids.user_id}/secrets/tracking-token')}\n")
    files = _root(ids, f"{ids.pipeline_id}: prepare data, train a line fit, evaluate it.",
                  ["prepare-data", "train", "evaluate"], _workflow(ids, parameters, tasks), secrets)
    files.update(_step(ids, "prepare-data", "prepare-data: points on the line y = 2x + 1, as JSON [[x, y], ...].",
                       [Param("samples", "How many points.", "20")],
                       "    n = int(args.samples)\n    points = [[i / n, 2 * i / n + 1] for i in range(n)]\n"
                       "    print(f\"prepare-data: {len(points)} points\")\n    write_result(points)\n"))
    files.update(_step(ids, "train", "train: fit y = w x + b by gradient descent; needs TRACKING_TOKEN (a secret).",
                       [Param("data", "JSON [[x, y], ...]."), Param("epochs", "Passes over the data.", "3"),
                        Param("learning_rate", "Step size.", "0.1"),
                        Param("optimizer", "Update rule.", "sgd", ("sgd", "momentum"))],
                       "    if not os.environ.get(\"TRACKING_TOKEN\"):\n"
                       "        parser.error(\"TRACKING_TOKEN is not set (step_version_secrets.train)\")\n"
                       "    data, rate = json.loads(args.data), float(args.learning_rate)\n"
                       "    w = b = velocity_w = velocity_b = 0.0\n"
                       "    for epoch in range(int(args.epochs) * 50):\n"
                       "        grad_w = sum(2 * (w * x + b - y) * x for x, y in data) / len(data)\n"
                       "        grad_b = sum(2 * (w * x + b - y) for x, y in data) / len(data)\n"
                       "        keep = 0.9 if args.optimizer == \"momentum\" else 0.0\n"
                       "        velocity_w, velocity_b = keep * velocity_w + grad_w, keep * velocity_b + grad_b\n"
                       "        w, b = w - rate * velocity_w, b - rate * velocity_b\n"
                       "    print(f\"train: w={w:.3f} b={b:.3f} (token set, not shown)\")\n"
                       "    write_result({\"w\": w, \"b\": b})\n"))
    files.update(_step(ids, "evaluate", "evaluate: mean squared error of the model on the data.",
                       [Param("data", "JSON [[x, y], ...]."), Param("model", "The model, JSON with w and b.")],
                       "    data, model = json.loads(args.data), json.loads(args.model)\n"
                       "    mse = sum((model[\"w\"] * x + model[\"b\"] - y) ** 2 for x, y in data) / len(data)\n"
                       "    print(f\"evaluate: mse={mse:.6f}\")\n    write_result({\"mse\": mse})\n"))
    files["secrets.env.example"] = ("# Secrets for local runs (pipeline-ci deploy . --backend local --run --secrets-file "
                                    "secrets.env.example).\n# On Clarifai the value comes from the secret named in "
                                    "config.yaml. Never commit a real token.\nTRACKING_TOKEN=local-dummy-token\n")
    return files


TEMPLATES: dict[str, Callable[[Ids], dict[str, str]]] = {"single": single, "dag": dag, "training": training}
"""Template name -> the files it writes. ``training`` runs locally with ``--secrets-file secrets.env.example``."""

NEEDS_SECRETS_FILE = {"training": "secrets.env.example"}
