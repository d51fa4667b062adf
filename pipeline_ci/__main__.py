"""``python -m pipeline_ci``: the same as the ``pipeline-ci`` command (:func:`pipeline_ci.cli.main`)."""

import sys

from .cli import main

sys.exit(main())
