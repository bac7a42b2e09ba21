{%- set tree = cookiecutter.task_queue == "database" or cookiecutter.scheduler == "clock" -%}
"""`manage.py serve`: the site's processes on one machine, started by one command.

On SQLite it first applies the migrations, once, before anything starts.
{%- if tree %} The parts then
run as one tree of processes (core/tree.py).
{%- else %} With the web
process as its only part, serve then becomes gunicorn: no supervisor, no process of its
own left.
{%- endif %}
"""

import logging
import os
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
{%- if tree %}

from ...tree import GRACE_SECONDS, run_tree
{%- endif %}

# Each part, as its Procfile line runs it, on this Python (no PATH, no shell of its own).
CHILDREN = [
    ("web", ["-m", "gunicorn", "config.wsgi", "--access-logfile", "-"]),
{%- if cookiecutter.task_queue == "database" %}
    ("worker", ["manage.py", "worker"]),
{%- endif %}
{%- if cookiecutter.scheduler == "clock" and cookiecutter.task_queue == "none" %}
    ("clock", ["manage.py", "clock"]),
{%- endif %}
]


class Prefixed:
    """A stream for call_command that names the part on each line, as honcho does."""

    def __init__(self, name):
        self.name = name
        self.line = ""

    def write(self, text):
        *lines, self.line = (self.line + text).split("\n")
        for line in lines:
            sys.stdout.write(f"{time.strftime('%H:%M:%S')} {self.name} | {line}\n")
        sys.stdout.flush()

    def flush(self):
        sys.stdout.flush()


def migrate():
    """Apply migrations, each line of the command and of its logging named migrate."""
    output = Prefixed("migrate")
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    streams = [handler.stream for handler in handlers]
    for handler in handlers:
        handler.setStream(output)
    try:
        call_command("migrate", interactive=False, no_color=True, stdout=output, stderr=output)
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


class Command(BaseCommand):
    help = (
        "Run the site on this machine as one command: "
        + ", ".join(name for name, _ in CHILDREN)
        + ". On SQLite it first applies the migrations itself, once, before anything starts;"
        " on a database server the Procfile's release step does, once per deploy."
{%- if tree %}
        " SIGTERM or Ctrl-C stops every part, each finishing what it runs, and exits 0; "
        "a part that ends takes the rest down, with a non-zero exit."
{%- endif %}
    )
{%- if tree %}

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=int,
            default=GRACE_SECONDS,
            help=f"Seconds the parts get to finish after SIGTERM (default {GRACE_SECONDS}).",
        )
{%- endif %}

    def handle(self, *args, **options):
        if connection.vendor == "sqlite":
            migrate()
        connection.close()
        os.chdir(settings.BASE_DIR)
{%- if tree %}
        sys.exit(run_tree(CHILDREN, grace=options["grace"]))
{%- else %}
        [(_, arguments)] = CHILDREN
        # This process becomes gunicorn: signals reach it, and nothing of serve is left.
        os.execv(sys.executable, [sys.executable, *arguments])  # noqa: S606 (no shell wanted)
{%- endif %}
