"""Running a job keeps the cached pages: claiming its time is not a change of content."""

import pytest
from django.core.management import call_command

from {{ cookiecutter.project_slug }}.pages.models import Page


@pytest.fixture
def page(db):
    return Page.objects.create(title="Hello", slug="hello", body="first version")


def cached(client):
    """Whether a request for the page is answered from the cache."""
    return client.get("/pages/hello/")["X-Cache"] == "hit"


def test_running_the_housekeeping_jobs_keeps_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert cached(client)
    call_command("runjob", "clearsessions")
    call_command("runjob", "cull_page_cache")
    assert cached(client)
