"""The queue's own writes keep the cached pages; what a task changes still wipes them."""

from {{ cookiecutter.project_slug }}.pages.models import Page
from {{ cookiecutter.project_slug }}.queue.heartbeat import worker_beat

from .tasks import add


def test_enqueueing_and_heartbeats_keep_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"
    add.enqueue(1, 2)
    worker_beat(worker_id="test-worker")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"


def test_content_a_task_changes_wipes_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"
    Page.objects.filter(pk=page.pk).update(body="written by a task")
    assert client.get("/pages/hello/")["X-Cache"] == "miss"
    assert b"written by a task" in client.get("/pages/hello/").content
