"""Failed tasks run again after a growing pause, then stay FAILED with their error."""

import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from django.tasks import TaskResultStatus

from {{ cookiecutter.project_slug }}.queue.backend import RetryingTask
from {{ cookiecutter.project_slug }}.queue.tasks import url_check

from ..support import wait_for
from .tasks import always_fail, nothing


class ThirdParty(BaseHTTPRequestHandler):
    """Slow on the first call, failing on the second, healthy from the third on."""

    calls: ClassVar[list[float]] = []  # monotonic time of each request

    def do_GET(self):
        self.calls.append(time.monotonic())
        if len(self.calls) == 1:
            time.sleep(2)  # past the task's timeout
        status = HTTPStatus.INTERNAL_SERVER_ERROR if len(self.calls) == 2 else HTTPStatus.OK
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def third_party():
    ThirdParty.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ThirdParty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_the_example_task_retries_a_slow_then_failing_service(start_worker, third_party):
    start_worker()
    result = url_check.enqueue(url=third_party, timeout=0.5)
    wait_for(lambda: result.refresh() or result.is_finished, timeout=60, what="the third try")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 200
    assert len(result.worker_ids) == 3
    first, second, third = ThirdParty.calls
    # backoff=2: two seconds after the first failure (which took the 0.5 s timeout), four
    # after the second (an at once 500); a deferred task is picked up when due. The server
    # sees each call a few ms after the task's clock started: 0.1 s of slack below.
    assert 2.4 <= second - first <= 3.5
    assert 3.9 <= third - second <= 5


def test_a_task_past_its_attempts_stays_failed_with_its_error(start_worker):
    start_worker()
    result = always_fail.enqueue()
    wait_for(lambda: result.refresh() or result.is_finished, what="the last attempt")
    assert result.status == TaskResultStatus.FAILED
    assert len(result.worker_ids) == 3
    assert result.errors[0].exception_class is RuntimeError
    assert "the third party said no" in result.errors[0].traceback


@pytest.mark.parametrize(
    ("attempt", "delay"), [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (7, 60.0), (8, None)]
)
def test_backoff_doubles_up_to_its_cap(attempt, delay):
    policy = RetryingTask(func=nothing, attempts=8, backoff=2, backoff_cap=60)
    assert policy.retry_delay(attempt=attempt) == delay
