"""App configuration for the backup and restore commands."""

from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.backup"
