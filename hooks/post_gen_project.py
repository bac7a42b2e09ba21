"""Remove what the answers ruled out, and write a development .env.

Files only: no network, no uv, no git, so that generation works offline.
"""

import json
import secrets
import shutil
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
SLUG = ANSWERS["project_slug"]
# What two answers decide together, for the table's rows (each row tests one name).
FACTS = {
    **ANSWERS,
    # manage.py serve runs a tree of processes: web, and the worker or the clock.
    "serve_tree": ANSWERS["task_queue"] == "database" or ANSWERS["scheduler"] == "clock",
}

# (answer or fact, the values that keep these paths, paths that go otherwise)
OPTIONAL_PATHS = (
    (
        "public_site_caching",
        {True},
        ["{slug}/pages", "{slug}/pagecache", "tests/pagecache"],
    ),
    ("task_queue", {"database"}, ["{slug}/queue", "tests/queue"]),
    ("public_site_caching", {True}, ["tests/queue/test_page_cache.py"]),
    (
        "database",
        {"postgresql"},
        [
            "{slug}/queue/postgresql.py",
            "{slug}/pagecache/postgresql.py",
            "{slug}/queue/migrations/0002_notify_ready.py",
        ],
    ),
    ("database", {"mysql"}, ["{slug}/queue/mysql.py", "{slug}/pagecache/mysql.py"]),
    (
        "database",
        {"postgresql", "mysql"},
        ["tests/queue/test_database_server.py"],
    ),
    (
        "scheduler",
        {"cron", "clock"},
        [
            "{slug}/schedule",
            "{slug}/users/dormant.py",
            "{slug}/users/tasks.py",
            "tests/schedule",
            "tests/users/test_dormant.py",
        ],
    ),
    (
        "task_queue",
        {"database"},
        [
            "{slug}/schedule/tasks.py",
            "{slug}/schedule/beside_worker.py",
            "{slug}/users/tasks.py",
            "tests/schedule/test_tasks.py",
        ],
    ),
    ("public_site_caching", {True}, ["tests/schedule/test_page_cache.py"]),
    (
        "scheduler",
        {"cron"},
        [
            "crontab",
            "{slug}/schedule/crontab.py",
            "{slug}/schedule/management/commands/crontab.py",
            "tests/schedule/test_crontab.py",
        ],
    ),
    (
        "scheduler",
        {"clock"},
        [
            "{slug}/schedule/clock.py",
            "{slug}/schedule/beside_worker.py",
            "{slug}/schedule/management/commands/clock.py",
            "tests/schedule/test_clock.py",
            "tests/schedule/test_clock_database_server.py",
        ],
    ),
    ("database", {"postgresql", "mysql"}, ["tests/schedule/test_clock_database_server.py"]),
    ("database", {"sqlite"}, ["tests/queue/test_serve.py"]),
    ("serve_tree", {True}, ["{slug}/core/tree.py", "tests/core/test_tree.py"]),
    # With a queue the worker keeps the clock: no clock process, command or unit.
    (
        "task_queue",
        {"none"},
        ["{slug}/schedule/management/commands/clock.py", "deploy/systemd/{slug}-clock.service"],
    ),
    (
        "database",
        {"sqlite"},
        ["{slug}/backup", "tests/backup", "tests/core/test_sqlite_sharing.py"],
    ),
    ("task_queue", {"database"}, ["deploy/systemd/{slug}-worker.service"]),
    ("scheduler", {"clock"}, ["deploy/systemd/{slug}-clock.service"]),
    # On SQLite serve migrates (no release script) and runs the worker or the clock
    # beside web (no units of their own).
    (
        "database",
        {"postgresql", "mysql"},
        [
            "deploy/release",
            "deploy/systemd/{slug}-worker.service",
            "deploy/systemd/{slug}-clock.service",
        ],
    ),
    (
        "scheduler",
        {"cron"},
        [
            "deploy/systemd/{slug}-job@.service",
            "{slug}/schedule/systemd.py",
            "{slug}/schedule/management/commands/systemd_timers.py",
            "tests/schedule/test_systemd.py",
        ],
    ),
)


def remove_unused_paths():
    for answer, keep_for, paths in OPTIONAL_PATHS:
        if FACTS[answer] in keep_for:
            continue
        for name in paths:
            path = Path(name.format(slug=SLUG))
            if not path.exists():  # inside a directory that an earlier row removed
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def write_env():
    Path(".env").write_text(
        "# Development settings; git ignores this file. See .env.example.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )


if __name__ == "__main__":
    remove_unused_paths()
    write_env()
