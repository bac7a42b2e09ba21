"""Every supported combination of answers gives a clean project whose own checks pass."""

import itertools
import os
import re

import pytest

# Each answer that changes what a project holds, with every value it takes. A new
# answer is one more entry here; every combination of them is baked and checked.
ANSWERS = {
    "database": ["sqlite", "postgresql", "mysql"],
    "public_site_caching": [False, True],
    "task_queue": ["none", "database"],
    "scheduler": ["none", "cron", "clock"],
}


def readable(name, value):
    """A test id part: the value itself, or the name of a yes/no answer (no- when off)."""
    if isinstance(value, bool):
        return name.replace("_", "-") if value else f"no-{name.replace('_', '-')}"
    return value


# python_version only changes metadata (requires-python, .python-version, ruff's
# target), so each other version is baked once, with the other answers at defaults.
COMBINATIONS = [
    pytest.param(
        dict(zip(ANSWERS, values, strict=True)),
        id="-".join(readable(name, value) for name, value in zip(ANSWERS, values, strict=True)),
    )
    for values in itertools.product(*ANSWERS.values())
] + [
    pytest.param({"python_version": "3.12"}, id="python3.12"),
    pytest.param({"python_version": "3.14", "database": "postgresql"}, id="python3.14-postgresql"),
    pytest.param({"python_version": "3.14", "database": "mysql"}, id="python3.14-mysql"),
]

# The processes every project runs, and those an answer adds to the Procfile: on SQLite
# none, as web (manage.py serve) runs the worker or the clock beside gunicorn.
PROCESSES = {"web", "release"}
SERVERS = {"postgresql", "mysql"}
ANSWER_PROCESSES = [
    ({"database": SERVERS, "task_queue": "database"}, {"worker"}),
    # With a queue, the worker keeps the clock.
    ({"database": SERVERS, "scheduler": "clock", "task_queue": "none"}, {"clock"}),
]

# Strings that betray a part the answers did not ask for.
RESIDUE = {
    ("database", "sqlite"): ["psycopg", "postgres", "mysql", "mariadb"],
    ("database", "postgresql"): [
        "manage.py backup",
        "backup_dir",
        "backup_keep",
        ".backup",
        "mysql",
        "mariadb",
    ],
    ("database", "mysql"): [
        "manage.py backup",
        "backup_dir",
        "backup_keep",
        ".backup",
        "psycopg",
        "postgres",
    ],
    ("public_site_caching", False): [
        "pagecache",
        "page_cache",
        "x-cache",
        ".pages",
        "pages/",
        "caches",
    ],
    ("task_queue", "none"): [
        "django_tasks",
        "django-tasks",
        "heartbeat",
        "manage.py worker",
        "task_worker",
        "tasks/example",
        ".queue",
        "worker:",
        "workers_alive",
        "serve_parts",
    ],
    ("scheduler", "none"): [
        ".schedule",
        "/schedule",
        "runjob",
        "apscheduler",
        "crontab",
        "manage.py clock",
        "run_clock",
        "dormant",
        "cronsim",
    ],
    ("scheduler", "cron"): ["apscheduler", "manage.py clock", "run_clock"],
    ("scheduler", "clock"): ["crontab"],
}
# The same, for answers given together: (answers, markers).
RESIDUE_TOGETHER = [
    # The worker keeps the clock: no clock process, command or unit.
    (
        {"scheduler": "clock", "task_queue": "database"},
        ["manage.py clock", "run_clock", "-clock", "clock line", "`clock`"],
    ),
]

# Paths that exist only for some answers: (the answers that keep them, paths).
OPTIONAL_PATHS = [
    (
        {"public_site_caching": True},
        ["{slug}/pages", "{slug}/pagecache", "tests/pagecache"],
    ),
    ({"task_queue": "database"}, ["{slug}/queue", "tests/queue"]),
    (
        {"scheduler": "cron"},
        ["crontab", "{slug}/schedule/crontab.py", "tests/schedule/test_crontab.py"],
    ),
    ({"scheduler": "clock"}, ["{slug}/schedule/clock.py", "tests/schedule/test_clock.py"]),
    (
        {"scheduler": {"cron", "clock"}},
        ["{slug}/users/dormant.py", "tests/users/test_dormant.py", "tests/schedule"],
    ),
    (
        {"scheduler": {"cron", "clock"}, "task_queue": "database"},
        ["{slug}/users/tasks.py", "{slug}/schedule/tasks.py", "tests/schedule/test_tasks.py"],
    ),
    ({"scheduler": "clock", "task_queue": "database"}, ["{slug}/schedule/beside_worker.py"]),
    (
        {"database": "sqlite"},
        ["{slug}/backup", "tests/backup", "tests/core/test_sqlite_sharing.py"],
    ),
    ({"database": SERVERS}, ["deploy/release"]),
    ({"database": "postgresql", "task_queue": "database"}, ["{slug}/queue/postgresql.py"]),
    ({"database": "mysql", "task_queue": "database"}, ["{slug}/queue/mysql.py"]),
    (
        {"database": SERVERS, "task_queue": "database"},
        ["tests/queue/test_database_server.py"],
    ),
    (
        {"database": SERVERS, "scheduler": "clock"},
        ["tests/schedule/test_clock_database_server.py"],
    ),
    # On SQLite the web unit runs serve, which runs the worker or the clock beside web.
    (
        {"database": SERVERS, "task_queue": "database"},
        ["deploy/systemd/{slug}-worker.service"],
    ),
    # With a queue, the worker keeps the clock.
    (
        {"scheduler": "clock", "task_queue": "none"},
        ["{slug}/schedule/management/commands/clock.py"],
    ),
    (
        {"database": SERVERS, "scheduler": "clock", "task_queue": "none"},
        ["deploy/systemd/{slug}-clock.service"],
    ),
    (
        {"scheduler": "cron"},
        ["deploy/systemd/{slug}-job@.service", "tests/schedule/test_systemd.py"],
    ),
    # serve runs a tree when there is a part beside web.
    (
        [{"task_queue": "database"}, {"scheduler": "clock"}],
        ["{slug}/core/tree.py", "tests/core/test_tree.py"],
    ),
]

# The project's tests that need a database server, with the answers that ship them:
# a suite run on SQLite skips exactly these, one on its own server none. A new one is
# a row here, or the template's suite fails on the unexpected skip.
SERVER_ONLY_TESTS = [
    *(
        (
            {"database": database, "task_queue": "database"},
            "tests.queue.test_database_server.test_a_worker_waits_out_a_database_restart",
        )
        for database in SERVERS
    ),
    *(
        (
            {"database": database, "public_site_caching": True},
            f"tests.pagecache.test_page_cache.{name}",
        )
        for database in SERVERS
        for name in (
            "test_a_read_survives_a_connection_the_server_ended[hit]",
            "test_a_read_survives_a_connection_the_server_ended[get]",
            "test_cull_folds_the_counters_of_ended_sessions_and_keeps_the_token",
            "test_a_writer_never_waits_for_another_writer_s_transaction",
            "test_writers_locking_rows_in_opposite_orders_never_deadlock",
        )
    ),
    (
        {"database": "mysql", "public_site_caching": True},
        "tests.pagecache.test_page_cache"
        ".test_a_write_behind_a_backslash_wipes_the_cached_pages_in_any_sql_mode",
    ),
    *(
        (
            {"database": database, "scheduler": "clock"},
            "tests.schedule.test_clock_database_server"
            ".test_the_clock_keeps_firing_after_the_database_restarts",
        )
        for database in SERVERS
    ),
]

# What running a project's tools leaves beside it, all git-ignored.
UNTRACKED = {".env", ".pytest_cache", ".ruff_cache", "__pycache__", "db.sqlite3"}


def tracked_files(path):
    """Every file of the project that git would track."""
    return sorted(
        file
        for file in path.rglob("*")
        if file.is_file() and not UNTRACKED & set(file.relative_to(path).parts)
    )


def answer(answers, name):
    return answers.get(name, ANSWERS[name][0] if name in ANSWERS else None)


def answered(answers, wanted):
    """Whether answers give every answer of wanted, a dict of name and value.

    A value may be a set: any of its values will do. wanted may be a list of such
    dicts: any of them will do.
    """
    if isinstance(wanted, list):
        return any(answered(answers, one) for one in wanted)
    return all(
        answer(answers, name) in (value if isinstance(value, set) else {value})
        for name, value in wanted.items()
    )


def combinations_where(name, value):
    return [c for c in COMBINATIONS if answer(c.values[0], name) == value]


def expected_skips_on_sqlite(answers):
    """The server-only tests that the project for answers ships."""
    return {
        test
        for condition, test in SERVER_ONLY_TESTS
        if all(answer(answers, name) == value for name, value in condition.items())
    }


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_renders_without_template_leftovers(bakes, answers):
    path = bakes.render(answers)
    for file in tracked_files(path):
        text = file.read_text()
        assert "cookiecutter" not in text or file.name in {".cookiecutter.yaml", "README.md"}, file
        if "/templates/" not in str(file):  # Django's own template syntax lives there
            assert "{{" not in text, file
            assert "{%" not in text, file
        assert "noqa" not in text.split("\n", 1)[0], f"file-level noqa in {file}"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_leaves_no_trace_of_unused_parts(bakes, answers):
    path = bakes.render(answers)
    residue = [({name: value}, markers) for (name, value), markers in RESIDUE.items()]
    for wanted, markers in residue + RESIDUE_TOGETHER:
        if not answered(answers, wanted):
            continue
        for file in tracked_files(path):
            text = file.read_text().lower()
            for marker in markers:
                assert marker not in text, f"{marker!r} in {file.relative_to(path)}"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_optional_paths_exist_only_when_asked_for(bakes, answers):
    path = bakes.render(answers)
    for keep_for, paths in OPTIONAL_PATHS:
        for optional in paths:
            exists = (path / optional.format(slug=path.name)).exists()
            assert exists == answered(answers, keep_for), optional


# Lint, the project's suite on its own database, and makemigrations --check run as
# its CI workflow runs them: tests/test_ci_workflow.py. check --deploy runs in the
# Procfile's release line: tests/test_procfile.py.


# A server project's suite on SQLite, where a developer may run it, for each set of
# server-only modules it can hold (pagecache/<vendor>.py with the cache,
# queue/<vendor>.py and its migrations with the queue) and the heaviest scheduler: the
# rest of its code is the SQLite project's, whose suite runs on SQLite in every
# combination. Each such run costs about 200 s of a core (docs/design-decisions.md).
SQLITE_TOO = [
    c
    for database in sorted(SERVERS)
    for c in combinations_where("database", database)
    if answer(c.values[0], "scheduler") == "clock"
]


@pytest.mark.parametrize("answers", SQLITE_TOO)
def test_project_suite_passes_on_sqlite_too(project, answers):
    baked = project(**answers)
    result = baked.pytest(DATABASE_URL=f"sqlite:///{baked.path / 'db.sqlite3'}")
    assert set(result.skipped) == expected_skips_on_sqlite(answers), result.stdout


# The projects' own restart tests, restarting the server for real rather than ending
# its sessions: (answers that ship the test, the test file), on each server.
RESTART_TESTS = [
    ({"scheduler": "clock"}, "tests/schedule/test_clock_database_server.py", "clock"),
    # the worker keeps the clock
    (
        {"task_queue": "database", "scheduler": "clock"},
        "tests/schedule/test_clock_database_server.py",
        "worker-clock",
    ),
    ({"task_queue": "database"}, "tests/queue/test_database_server.py", "worker"),
]
# How each server's restart command is named, as .ci/run sets it.
RESTART_COMMANDS = {"postgresql": "POSTGRES_RESTART_COMMAND", "mysql": "MYSQL_RESTART_COMMAND"}


@pytest.mark.parametrize(
    ("database", "answers", "test_file"),
    [
        pytest.param(
            database,
            answers,
            test_file,
            id=f"{database}-{name}",
            marks=pytest.mark.skipif(
                not os.environ.get(RESTART_COMMANDS[database]),
                reason=f"{RESTART_COMMANDS[database]} (set by .ci/run) names how to restart it",
            ),
        )
        for database in sorted(SERVERS)
        for answers, test_file, name in RESTART_TESTS
    ],
)
def test_a_real_server_restart_is_waited_out(project, server_lock, database, answers, test_file):
    baked = project(database=database, **answers)
    url = baked.mysql_url() if database == "mysql" else baked.postgres_url()
    variable = RESTART_COMMANDS[database]
    with server_lock(database, shared=False):
        result = baked.pytest(test_file, DATABASE_URL=url, **{variable: os.environ[variable]})
    assert "1 passed" in result.stdout, result.stdout


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_procfile_lists_exactly_the_processes_asked_for(bakes, answers):
    path = bakes.render(answers)
    lines = (path / "Procfile").read_text().splitlines()
    expected = PROCESSES.union(
        *(added for wanted, added in ANSWER_PROCESSES if answered(answers, wanted))
    )
    assert {re.match(r"(\w+):", line).group(1) for line in lines} == expected
