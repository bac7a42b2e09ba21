"""The schedule: every job that runs at set times, declared once for cron and the clock.

A timetable reads like a line of cron, "minute hour day month day-of-week", in
settings.TIME_ZONE, with days of the week as names (sun, mon-fri). Whatever fires
a job, it runs at most once per scheduled time.
"""

import io
import logging
from functools import partial

from django.core.management import call_command
{% if cookiecutter.task_queue == "database" %}
from ..users.tasks import deactivate_dormant_users
{%- else %}
from ..users.dormant import deactivate_dormant_users
{%- endif %}
from .timetable import Job

logger = logging.getLogger(__name__)


def run_command(name):
    """Run a management command, logging its report: cron mails whatever prints."""
    report = io.StringIO()
    call_command(name, stdout=report)
    if report.getvalue().strip():
        logger.info("%s: %s", name, report.getvalue().strip())


SCHEDULE = [
    # Django never deletes expired sessions by itself.
    Job(name="clearsessions", cron="17 3 * * *", run=partial(run_command, "clearsessions")),
    # Accounts unused for DORMANT_USER_DAYS (unset: none), superusers aside.
    Job(name="deactivate_dormant_users", cron="47 3 * * *", run=deactivate_dormant_users),
{%- if cookiecutter.public_site_caching %}
    # Page cache: writes never trim its table, so expired and outdated pages wait for this.
    Job(name="cull_page_cache", cron="27 3 * * *", run=partial(run_command, "cull_page_cache")),
{%- endif %}
{%- if cookiecutter.task_queue == "database" %}
    # Task queue: its own upkeep runs in place, since a stuck queue would hold it.
    Job(
        name="recover_tasks",
        cron="*/10 * * * *",
        run=partial(run_command, "recover_tasks"),
        in_place=True,
    ),
    Job(
        name="prune_tasks",
        cron="37 3 * * *",
        run=partial(run_command, "prune_tasks"),
        in_place=True,
    ),
{%- endif %}
{%- if cookiecutter.database == "sqlite" %}
    # SQLite: a checked copy of the data each night, before the night's other jobs change it.
    Job(name="backup", cron="57 2 * * *", run=partial(run_command, "backup")),
{%- endif %}
]
