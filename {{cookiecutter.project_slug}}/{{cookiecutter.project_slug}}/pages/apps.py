"""App configuration for the public pages."""

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.pages"
