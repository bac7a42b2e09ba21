"""Running a job keeps the cached pages: claiming its time is not a change of content."""

from django.core.management import call_command


def test_running_the_housekeeping_jobs_keeps_the_cached_pages(client, page):
    client.get("/pages/hello/")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"
    call_command("runjob", "clearsessions")
    call_command("runjob", "cull_page_cache")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"
