"""URL routes: the home page, the health check and the admin, then each optional app's."""

from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }}.core import views
{%- if cookiecutter.public_site_caching %}
from {{ cookiecutter.project_slug }}.pages import urls as pages_urls
{%- endif %}
{%- if cookiecutter.task_queue == "database" %}
from {{ cookiecutter.project_slug }}.queue import urls as queue_urls
{%- endif %}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
{%- if cookiecutter.public_site_caching %}

# Public site caching: the public pages it serves.
urlpatterns += pages_urls.urlpatterns
{%- endif %}
{%- if cookiecutter.task_queue == "database" %}

# Task queue: the example page that hands a call to a third party to the worker.
urlpatterns += queue_urls.urlpatterns
{%- endif %}
