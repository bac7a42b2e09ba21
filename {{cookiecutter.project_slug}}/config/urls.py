"""URL routes: the home page, the health check and the admin."""

from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }}.core import views
{%- if cookiecutter.task_queue == "database" %}
from {{ cookiecutter.project_slug }}.queue import urls as queue_urls
{%- endif %}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
{%- if cookiecutter.task_queue == "database" %}

# Task queue: the example page that hands a call to a third party to the worker.
urlpatterns += queue_urls.urlpatterns
{%- endif %}
