"""The cyclic garbage collector paused while documents are loaded (:func:`gc_paused`), in a module of its own so that
``changed`` can hold it for its whole run without importing PyYAML (:mod:`pipeline_ci.yamldoc`), which its fast paths
never need."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document is composed and built: it would otherwise scan the
    growing trees of new containers again and again, which makes loading a multi-megabyte spec superlinear
    (it runs again as soon as loading ends and then collects whatever garbage loading left).

    ``lint`` and ``changed`` hold it for their whole run: they load thousands of documents in a monorepo, and each
    collection would otherwise traverse every document loaded so far (5x the time of the loads themselves on a
    1,000-step repository). What they build has (almost) no reference cycles: reference counting frees it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
