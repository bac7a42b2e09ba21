"""The home page, and the health check that platforms and load balancers poll."""

from django.apps import apps
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
def home(request):
    return render(request, "core/home.html")


@never_cache
@require_safe
def healthz(request):
    """Answer 200 once the database answers, 503 while it does not.

    An app whose AppConfig has a health() method adds that method's figures.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        figures = {}
        for config in apps.get_app_configs():
            if hasattr(config, "health"):
                figures.update(config.health())
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up", **figures})
