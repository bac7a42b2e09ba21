"""The home page, and the health check that platforms and load balancers poll."""

from django.apps import apps
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


class Unhealthy(Exception):
    """What an AppConfig.health() raises when its app cannot do its work: /healthz then
    answers 503, with the figures given here as health() would have returned them."""

    def __init__(self, figures):
        super().__init__(figures)
        self.figures = figures


@require_safe
def home(request):
    return render(request, "core/home.html")


@never_cache
@require_safe
def healthz(request):
    """Answer 200 once the database answers, 503 while it does not.

    An app whose AppConfig has a health() method adds that method's figures; if it raises
    Unhealthy instead, the answer is 503 with its figures.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        figures, healthy = {}, True
        for config in apps.get_app_configs():
            if hasattr(config, "health"):
                try:
                    figures.update(config.health())
                except Unhealthy as unhealthy:
                    figures.update(unhealthy.figures)
                    healthy = False
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    if not healthy:
        return JsonResponse({"status": "unavailable", "database": "up", **figures}, status=503)
    return JsonResponse({"status": "ok", "database": "up", **figures})
