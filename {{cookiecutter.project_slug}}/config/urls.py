"""URL routes: the home page, the health check{% if cookiecutter.public_site_caching %}, the public pages{% endif %} and the admin."""

from django.contrib import admin
from django.urls import {% if cookiecutter.public_site_caching %}include, {% endif %}path

from {{ cookiecutter.project_slug }}.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
{%- if cookiecutter.public_site_caching %}
    path("pages/", include("{{ cookiecutter.project_slug }}.pages.urls")),
{%- endif %}
    path("admin/", admin.site.urls),
]
