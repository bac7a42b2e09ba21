"""URL routes: the home page, the health check, the admin and each optional app's."""

from django.contrib import admin
{%- if cookiecutter.public_site_caching or cookiecutter.task_queue == "database" %}
from django.urls import include, path
{%- else %}
from django.urls import path
{%- endif %}

from {{ cookiecutter.project_slug }}.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
{%- if cookiecutter.public_site_caching %}
    # Public site caching: the public pages it serves.
    path("pages/", include("{{ cookiecutter.project_slug }}.pages.urls")),
{%- endif %}
{%- if cookiecutter.task_queue == "database" %}
    # Task queue: the example page that hands a call to a third party to the worker.
    path("tasks/", include("{{ cookiecutter.project_slug }}.queue.urls")),
{%- endif %}
]
