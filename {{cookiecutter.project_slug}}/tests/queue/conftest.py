"""Real worker processes on the test database, stopped after each test."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from {{ cookiecutter.project_slug }}.queue.models import Worker

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def wait_for(condition, *, timeout=30, what="the condition"):
    """Check condition every 20 ms until it holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def database_url_for_workers():
    """The URL of the test database, for processes started by a test."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = quote(database["USER"] or "")
    password = quote(database["PASSWORD"] or "")
    host = f"{database['HOST']}:{database['PORT']}" if database["PORT"] else database["HOST"]
    return f"{connection.vendor}://{user}:{password}@{host}/{database['NAME']}"


class WorkerProcess:
    """`manage.py worker` in its own process, with its output kept in a file.

    skew runs it with its clock that many seconds behind the database's (skewed_clock.py).
    """

    def __init__(self, *, log, dead_after, args=(), env=None, skew=None):
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_workers(),
            "TASK_WORKER_DEAD_AFTER": str(dead_after),
            **(env or {}),
        }
        command = [sys.executable, "manage.py", "worker", "--no-startup-delay", *args]
        if skew is not None:
            command[1:2] = [str(Path(__file__).with_name("skewed_clock.py")), str(skew)]
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        wait_for(self.registered, what=f"worker {self.process.pid} to start:\n{self.output()}")

    def registered(self):
        """Its heartbeat row is there (it stays if a task then kills the worker at once)."""
        if Worker.objects.filter(pid=self.process.pid).exists():
            return True
        assert self.process.poll() is None, f"the worker exited:\n{self.output()}"
        return False

    def output(self):
        return self.log.read_text()

    def terminate(self):
        """SIGTERM, as a platform sends it; return the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a worker on the test database; every worker goes at the end of the test."""
    started = []

    def start(*, dead_after=30, args=(), env=None, skew=None):
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(log=log, dead_after=dead_after, args=args, env=env, skew=skew)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
        print(f"--- worker {worker.process.pid}:\n{worker.output()}")  # shown when a test fails
