"""A pytest plugin for nbval runs: keep each notebook as it executed, so slides and the site need no second run.

``pytest notebooks --nbval-lax -p udl.nbval_save`` writes every notebook, with the outputs nbval received, to
``$UDL_SAVE_EXECUTED/notebooks/`` (default ``build``), as `udl notebooks run` would; CI builds the site from them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Time each nbval cell and put the outputs it received into the parent notebook (after nbval compared)."""
    start = time.perf_counter()
    yield
    outputs = getattr(item, "test_outputs", None)
    if outputs is None or not hasattr(item, "cell"):
        return
    item.cell.outputs = outputs
    item.cell.execution_count = item.cell_num + 1
    parent = item.parent
    parent.udl_seconds = getattr(parent, "udl_seconds", 0.0) + time.perf_counter() - start


def pytest_sessionfinish(session):
    """Write every notebook nbval executed to ``$UDL_SAVE_EXECUTED/notebooks/``."""
    import nbformat

    folder = Path(os.environ.get("UDL_SAVE_EXECUTED") or "build") / "notebooks"
    files = {id(item.parent): item.parent for item in session.items if hasattr(item, "test_outputs")}
    for notebook in files.values():
        if not hasattr(notebook, "udl_seconds"):
            continue  # collected but never run (deselected, or the session stopped first)
        notebook.nb.metadata["udl"] = {"seconds": round(notebook.udl_seconds, 1),
                                       "profile": os.environ.get("UDL_PROFILE", "full")}
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook.nb, folder / Path(str(notebook.fspath)).name)
