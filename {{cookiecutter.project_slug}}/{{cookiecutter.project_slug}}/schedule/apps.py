"""App configuration for the schedule."""

from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.schedule"
