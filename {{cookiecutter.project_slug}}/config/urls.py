"""URL routes: the home page, the health check and the admin."""

from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }}.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
