"""The local platform: Local = the store (``store.py``: "uploads" kept under the git-ignored ``.pipeline-ci/``)
+ the executor (``executor/``: runs the pipeline's embedded Argo Workflow on this machine, see
:mod:`pipeline_ci.platforms.local.executor`)."""
