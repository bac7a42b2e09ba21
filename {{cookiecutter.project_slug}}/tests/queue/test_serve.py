"""`manage.py serve` with the worker: a task a request enqueues runs, survives a stop and
a killed worker, on a fresh SQLite file."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

import pytest

from ..support import PROJECT_DIR, wait_for


class SlowService:
    """A third party on this machine that answers each call after delay seconds."""

    def __init__(self, delay):
        self.delay = delay
        self.calls = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                service.calls += 1
                time.sleep(service.delay)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def service():
    slow = SlowService(delay=7)  # longer than honcho's own wait before SIGKILL (5 s)
    yield slow
    slow.server.shutdown()


@pytest.fixture
def environment(tmp_path, service):
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "TASK_EXAMPLE_URL": service.url,
        "TASK_WORKER_DEAD_AFTER": "2",
    }


def statuses(environment):
    path = environment["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as database:
        rows = database.execute("SELECT status FROM django_tasks_database_dbtaskresult")
        return [status for (status,) in rows]


STAFF = ["--username", "staff", "--email", "staff@example.com"]


def enqueue_by_request(server, environment):
    """Sign in as staff and press the example page's button, as a person would."""
    password = "a throwaway password 1"  # noqa: S105 (a user of this test's database only)
    subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--no-input", *STAFF],
        cwd=PROJECT_DIR,
        env={**os.environ, **environment, "DJANGO_SUPERUSER_PASSWORD": password},
        check=True,
        capture_output=True,
    )
    cookies = CookieJar()
    browser = build_opener(HTTPCookieProcessor(cookies))
    base = f"http://localhost:{server.port}"

    def token():  # a sign-in changes it
        return next(cookie.value for cookie in cookies if cookie.name == "csrftoken")

    browser.open(f"{base}/admin/login/", timeout=30).read()
    form = {"username": "staff", "password": password, "csrfmiddlewaretoken": token(), "next": "/"}
    browser.open(f"{base}/admin/login/", urlencode(form).encode(), timeout=30).read()
    page = browser.open(
        f"{base}/tasks/example", urlencode({"csrfmiddlewaretoken": token()}).encode(), timeout=30
    )
    assert page.status == 200 and page.url.endswith("/tasks/example")
    assert statuses(environment) in (["READY"], ["RUNNING"])


def test_sigterm_lets_the_running_task_finish_and_the_tree_exits_0(serve, environment, service):
    server = serve(env=environment)
    enqueue_by_request(server, environment)
    wait_for(lambda: service.calls == 1, timeout=30, what="the worker to call the service")
    stopped = time.monotonic()
    assert server.stop(timeout=30) == 0
    assert time.monotonic() - stopped > service.delay / 2  # it waited for the task
    assert statuses(environment) == ["SUCCESSFUL"]
    wait_for(lambda: not server.left(), timeout=10, what="the whole tree to end")


def test_a_task_longer_than_the_grace_period_is_cut_short_and_left_for_recovery(
    serve, environment, service
):
    server = serve(env=environment, args=["--grace", "2"])
    enqueue_by_request(server, environment)
    wait_for(lambda: service.calls == 1, timeout=30, what="the worker to call the service")
    stopped = time.monotonic()
    assert server.stop(timeout=30) != 0  # not all finished: a platform may log it
    assert time.monotonic() - stopped < service.delay - 1  # the grace period, not the task
    assert statuses(environment) == ["RUNNING"]  # for the next worker to recover
    wait_for(lambda: not server.left(), timeout=10, what="the whole tree to end")


def test_a_task_whose_worker_was_killed_is_done_after_serve_starts_again(
    serve, environment, service
):
    server = serve(env=environment)
    enqueue_by_request(server, environment)
    wait_for(lambda: service.calls == 1, timeout=30, what="the worker to call the service")
    os.kill(server.pid_of("worker"), signal.SIGKILL)
    assert server.process.wait(timeout=15) != 0
    wait_for(lambda: not server.left(), timeout=15, what="the whole tree to end")
    assert statuses(environment) == ["RUNNING"]  # its worker died halfway

    service.delay = 0
    serve(env=environment)
    wait_for(
        lambda: statuses(environment) == ["SUCCESSFUL"],
        timeout=30,
        what="the task to be recovered and run",
    )
    assert service.calls == 2
