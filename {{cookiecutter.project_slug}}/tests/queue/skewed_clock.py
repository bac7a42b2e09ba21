"""Run `manage.py` with this process's clock SKEW seconds behind: skewed_clock.py SKEW ARGS.

Python's clock only: the database keeps the real one, as a worker on another machine
sees it. SQLite's own clock, which runs inside this process, is the real one too.
"""

import runpy
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

skew = float(sys.argv.pop(1))
real_time, real_time_ns = time.time, time.time_ns
time.time = lambda: real_time() - skew
time.time_ns = lambda: real_time_ns() - int(skew * 1e9)

from django.utils import timezone  # noqa: E402 (after the clock is set back)


def now():
    return datetime.now(tz=UTC) - timedelta(seconds=skew)


timezone.now = now
sys.argv[0] = "manage.py"
sys.path[0] = str(Path.cwd())  # the project, as for `python manage.py`
runpy.run_path("manage.py", run_name="__main__")
