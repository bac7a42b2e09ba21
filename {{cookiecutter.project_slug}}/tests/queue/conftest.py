"""Real worker processes on the test database, stopped after each test."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.project_slug }}.queue.models import Worker

from ..support import PROJECT_DIR, wait_for


class WorkerProcess:
    """`manage.py worker` in its own process, with its output kept in a file.

    skew runs it with its clock that many seconds behind the database's (skewed_clock.py).
    """

    def __init__(self, *, database_url, log, dead_after, args=(), env=None, skew=None):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
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
def start_worker(live_database_url, tmp_path):
    """Start a worker on the test database; every worker goes at the end of the test."""
    started = []

    def start(*, dead_after=30, args=(), env=None, skew=None):
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(
            database_url=live_database_url,
            log=log,
            dead_after=dead_after,
            args=args,
            env=env,
            skew=skew,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
        print(f"--- worker {worker.process.pid}:\n{worker.output()}")  # shown when a test fails
