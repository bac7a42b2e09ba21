"""The example page: enqueue a call to a third party and answer at once."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_tasks_db.models import DBTaskResult

from .tasks import url_check


@staff_member_required
@require_http_methods(["GET", "POST"])
def example(request):
    """POST enqueues the call and redirects; GET lists the latest calls and how they went."""
    if request.method == "POST":
        url_check.enqueue(url=settings.TASK_EXAMPLE_URL)
        return redirect("queue:example")
    latest = DBTaskResult.objects.filter(task_path=url_check.module_path).order_by("-enqueued_at")
    return render(
        request, "queue/example.html", {"results": latest[:10], "url": settings.TASK_EXAMPLE_URL}
    )
