"""The admin's view of the guard: when each job last ran, for someone checking on cron."""

from django.contrib import admin

from .models import LastRun


@admin.register(LastRun)
class LastRunAdmin(admin.ModelAdmin):
    list_display = ("job", "scheduled_for", "claimed_at")
    ordering = ("job",)

    # The rows are the guard's: editing one would make a job skip or repeat a run.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
