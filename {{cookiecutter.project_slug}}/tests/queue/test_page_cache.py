"""The queue's own writes keep the cached pages; what a task changes still wipes them."""

import pytest

from {{ cookiecutter.project_slug }}.pages.models import Page
from {{ cookiecutter.project_slug }}.queue.heartbeat import worker_beat

from .tasks import add


@pytest.fixture
def page(db):
    return Page.objects.create(title="Hello", slug="hello", body="first version")


def cached(client):
    """Whether a request for the page is answered from the cache."""
    return client.get("/pages/hello/")["X-Cache"] == "hit"


def test_enqueueing_and_heartbeats_keep_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert cached(client)
    add.enqueue(1, 2)
    worker_beat(worker_id="test-worker")
    assert cached(client)


def test_content_a_task_changes_wipes_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert cached(client)
    Page.objects.filter(pk=page.pk).update(body="written by a task")
    assert not cached(client)
    assert b"written by a task" in client.get("/pages/hello/").content
