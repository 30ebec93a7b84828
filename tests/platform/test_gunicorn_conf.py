"""gunicorn.conf.py's worker hook: the loaded app's objects are frozen out of the collector's passes."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path


def test_a_worker_freezes_what_the_loaded_app_holds():
    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    gc.unfreeze()
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 1000  # everything this test process holds, the app's modules included
    finally:
        gc.unfreeze()
