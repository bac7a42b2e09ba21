"""The example task: a call to a third party, which no request should wait for."""

from urllib.parse import urlsplit
from urllib.request import urlopen

from django.tasks import task

# Seconds to wait for the service; a task that can hang would hold its worker.
TIMEOUT_SECONDS = 10


@task(attempts=4, backoff=2)
def url_check(*, url, timeout=TIMEOUT_SECONDS):
    """Fetch url and return its HTTP status; an error or a timeout fails this attempt.

    Safe to run twice, as every task must be: a worker that dies mid-task has its
    task run again by another worker.
    """
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError(f"Only http and https URLs: {url!r}")
    with urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
        return response.status
