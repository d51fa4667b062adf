"""The ``TARGET`` of each rule module, known without importing it (written by ``python -m pipeline_ci.rules.targets``).

:func:`pipeline_ci.rules.for_target` imports only the rules of the targets a project has: linting a Clarifai project
never imports the PAI manifest rules (nor the manifest model). A rule module missing here is imported to learn its
``TARGET`` (slower, never wrong); ``tests/test_lint_targets.py`` checks every entry against the module and that none
is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET_OF: dict[str, str] = {
    "yaml_syntax": "clarifai",
    "duplicate_key": "clarifai",
    "suppression_comment": "clarifai",
    "schema": "clarifai",
    "unknown_key": "clarifai",
    "spec_document": "clarifai",
    "unknown_field": "clarifai",
    "field_types": "clarifai",
    "workflow_name": "clarifai",
    "entrypoint": "clarifai",
    "on_exit": "clarifai",
    "template_name": "clarifai",
    "workflow_parameters": "clarifai",
    "unused_template": "clarifai",
    "template_type": "clarifai",
    "leaf_only_fields": "clarifai",
    "io_parameters": "clarifai",
    "retry_strategy": "clarifai",
    "step_name": "clarifai",
    "step_callee": "clarifai",
    "loops": "clarifai",
    "argument_values": "clarifai",
    "callee_inputs": "clarifai",
    "dag_tasks": "clarifai",
    "depends_expression": "clarifai",
    "dag_cycle": "clarifai",
    "dependency_style": "clarifai",
    "items_condition": "clarifai",
    "dag_target": "clarifai",
    "workflow_parameter_ref": "clarifai",
    "input_parameter_ref": "clarifai",
    "steps_ref": "clarifai",
    "tasks_ref": "clarifai",
    "item_ref": "clarifai",
    "unknown_variable": "clarifai",
    "expression_tag": "clarifai",
    "when_expression": "clarifai",
    "clarifai_templateref": "clarifai",
    "ref_owner": "clarifai",
    "step_arguments": "clarifai",
    "unguarded_recursion": "clarifai",
    "local_unsupported": "clarifai",
    "placeholder_id": "clarifai",
    "python_version": "clarifai",
    "compute_quantity": "clarifai",
    "requirements": "clarifai",
    "step_script": "clarifai",
    "argparse_params": "clarifai",
    "templateref_step": "clarifai",
    "step_directory": "clarifai",
    "secret_step_name": "clarifai",
    "secret_path": "clarifai",
    "lock_refs": "clarifai",
    "lock_ids": "clarifai",
    "stale_lock": "clarifai",
    "untracked_files": "clarifai",
    "dsl_drift": "clarifai",
    "pai_documents": "manifest",
    "pai_manifest_shape": "manifest",
    "pai_step_name": "manifest",
    "pai_io_names": "manifest",
    "pai_dependencies": "manifest",
    "pai_dependency_cycle": "manifest",
    "pai_reference": "manifest",
    "pai_arguments": "manifest",
    "pai_parameter_types": "manifest",
    "pai_from_types": "manifest",
    "pai_guid": "manifest",
    "pai_identifier_reference": "manifest",
    "pai_loop": "manifest",
    "overrides_schema": "overrides",
    "overrides_parameter": "overrides",
}


def main() -> int:
    """Rewrite :data:`TARGET_OF` from the modules listed in :data:`pipeline_ci.rules.RULE_MODULES`."""
    import importlib

    from . import RULE_MODULES

    rows = "".join(f'    "{name}": "{importlib.import_module(f"{__package__}.{name}").TARGET}",\n'
                   for name in RULE_MODULES)
    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index("TARGET_OF: dict[str, str] = {\n") + len("TARGET_OF: dict[str, str] = {\n")
    path.write_text(text[:start] + rows + text[text.index("}\n", start):], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
