"""The WSGI module gunicorn serves loads every view and freezes what lives as long as the
process, so full garbage collections during a request do not walk it (``cxhub.wsgi``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_application_loads_the_urlconf_and_freezes_it() -> None:
    script = (
        "import gc, sys\n"
        "import cxhub.wsgi\n"
        "assert 'feedback.api' in sys.modules and 'dashboards.views' in sys.modules\n"
        "print(gc.get_freeze_count())\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxhub.settings"}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.strip().splitlines()[-1]) > 50_000
