"""One command (`manage.py serve`) against the same processes started apart, side by side.

Bakes a SQLite project with the page cache, the queue and the clock (kept by the
worker), installs it as the template's tests do, and in rounds that alternate the two
ways (the machine's load drifts) starts the site on a copy of one migrated database:
- serve: `python manage.py serve`, the web server and the worker as one process tree
  under honcho's Manager;
- apart: gunicorn and `manage.py worker` started as two processes, as a platform or
  systemd runs the Procfile's lines (the database migrated beforehand, by release).

For each way and round: the time from start to the first 200 from /healthz; the memory
of every process of the tree once it answers (PSS, /proc/<pid>/smaps_rollup, so that
pages shared by forks count once); idle CPU, 10 s after that, over --idle-windows
windows of --idle-seconds (every thread's schedstat); and the time from SIGTERM to the
exit of every process, idle. Both ways run 2 gunicorn workers.

    uv run python benchmarks/serve.py [--rounds 3] [--idle-seconds 60] [--idle-windows 3]

Every figure is printed as min/median/max over the rounds, ratios too.
"""

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_DIR))

from benchmarks.generate import free_port  # noqa: E402
from benchmarks.task_queue import cpu_nanoseconds, row, spread  # noqa: E402

WAYS = ("serve", "apart")
ROWS = [
    ("start to the first 200 from /healthz (s)", "start_s", "{:.2f}"),
    ("memory of every process, PSS (MiB)", "pss_mib", "{:.0f}"),
    ("processes", "processes", "{:.0f}"),
    ("idle CPU, median window (% of a core)", "idle_cpu", "{:.3f}"),
    ("idle CPU, lowest window (%)", "idle_cpu_min", "{:.3f}"),
    ("idle CPU, highest window (%)", "idle_cpu_max", "{:.3f}"),
    ("SIGTERM to the exit of every process, idle (s)", "stop_s", "{:.2f}"),
]


def bake(output_dir):
    from cookiecutter.main import cookiecutter

    answers = {
        "project_name": "Bench Site",
        "public_site_caching": True,
        "task_queue": "database",
        "scheduler": "clock",
    }
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=output_dir, extra_context=answers)
    )


def descendants(roots):
    """The processes in roots and every process below them, from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def pss_mib(pids):
    total_kib = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
    return total_kib / 1024


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie has exited
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def measure(way, *, project, python, env, idle_seconds, idle_windows):
    port = free_port()
    env = {**env, "PORT": str(port)}
    if way == "serve":
        commands = [[python, "manage.py", "serve"]]
    else:
        commands = [
            [python, "-m", "gunicorn", "config.wsgi", "--access-logfile", "-"],
            [python, "manage.py", "worker"],
        ]
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    try:
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            if any(process.poll() is not None for process in processes):
                sys.exit(f"{way}: a process exited before the site answered")
            if time.monotonic() - started > 120:
                sys.exit(f"{way}: no 200 from /healthz within 120 s")
            time.sleep(0.02)
        start_s = time.monotonic() - started
        time.sleep(2)  # gunicorn's workers and the worker's threads all up
        pids = descendants([process.pid for process in processes])
        memory = pss_mib(pids)
        time.sleep(10)  # past the start-up's aftermath
        windows = []
        for _ in range(idle_windows):
            pids = descendants([process.pid for process in processes])
            before, window_start = cpu_nanoseconds(pids), time.monotonic()
            time.sleep(idle_seconds)
            spent = cpu_nanoseconds(pids) - before
            windows.append(spent / (time.monotonic() - window_start) / 1e9 * 100)
        pids = descendants([process.pid for process in processes])
        stopping = time.monotonic()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        while any(alive(pid) for pid in pids):
            time.sleep(0.01)
        stop_s = time.monotonic() - stopping
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return {
        "start_s": start_s,
        "pss_mib": memory,
        "processes": len(pids),
        "idle_cpu": statistics.median(windows),
        "idle_cpu_min": min(windows),
        "idle_cpu_max": max(windows),
        "stop_s": stop_s,
    }


def report(rounds):
    count = len(rounds["apart"])
    print(f"\nmin/median/max of {count} rounds; ratios serve/apart in the same round.\n")
    widths = [48, 22, 22, 17]
    print(row(["", "serve (one tree)", "apart (2 processes)", "serve/apart"], widths))
    for label, key, number in ROWS:
        cells = [label] + [spread([r[key] for r in rounds[way]], number) for way in WAYS]
        ratios = [
            ours[key] / theirs[key]
            for ours, theirs in zip(rounds["serve"], rounds["apart"], strict=True)
            if theirs[key]
        ]
        cells.append(spread(ratios, "{:.2f}") if ratios else "-")
        print(row(cells, widths))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="the ways take turns; at least 3")
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--idle-windows", type=int, default=3)
    options = parser.parse_args()
    from tests.conftest import LEAKY_VARIABLES

    base = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    rounds = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(tmp)
        # Installed as its README says.
        subprocess.run(["uv", "sync", "--quiet"], cwd=project, env=base, check=True)
        python = str(project / ".venv" / "bin" / "python")
        migrated = Path(tmp) / "migrated.sqlite3"
        env = {
            **base,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
        }
        migrate = [python, "manage.py", "migrate", "--no-input", "-v", "0"]
        database_env = {**env, "DATABASE_URL": f"sqlite:///{migrated}"}
        subprocess.run(migrate, cwd=project, env=database_env, check=True)
        for turn in range(options.rounds):
            for way in WAYS:
                print(f"round {turn + 1}/{options.rounds}: {way}", file=sys.stderr)
                database = Path(tmp) / f"{way}-{turn}.sqlite3"
                shutil.copyfile(migrated, database)
                rounds[way].append(
                    measure(
                        way,
                        project=project,
                        python=python,
                        env={**env, "DATABASE_URL": f"sqlite:///{database}"},
                        idle_seconds=options.idle_seconds,
                        idle_windows=options.idle_windows,
                    )
                )
    report(rounds)


if __name__ == "__main__":
    main()
