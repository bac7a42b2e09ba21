"""URL routes: the home page, the health check{% if cookiecutter.public_site_caching %}, the public pages{% endif %} and the admin."""

from django.contrib import admin
from django.urls import {% if cookiecutter.public_site_caching %}include, {% endif %}path

from {{ cookiecutter.project_slug }}.core import views
{%- if cookiecutter.task_queue == "database" %}
from {{ cookiecutter.project_slug }}.queue import urls as queue_urls
{%- endif %}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
{%- if cookiecutter.public_site_caching %}
    path("pages/", include("{{ cookiecutter.project_slug }}.pages.urls")),
{%- endif %}
    path("admin/", admin.site.urls),
]
{%- if cookiecutter.task_queue == "database" %}

# Task queue: the example page that hands a call to a third party to the worker.
urlpatterns += queue_urls.urlpatterns
{%- endif %}
