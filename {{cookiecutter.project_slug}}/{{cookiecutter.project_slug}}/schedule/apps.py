"""App configuration for the schedule."""

from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.schedule"
    # Tables whose writes are the app's bookkeeping, not content that pages show:
    # the claim of each job's time.
    bookkeeping = ("schedule",)
