"""Every supported combination of answers gives a clean project whose own checks pass."""

import itertools
import os
import re
import secrets

import pytest

# Each answer that changes what a project holds, with every value it takes. A new
# answer is one more entry here; every combination of them is baked and checked.
ANSWERS = {
    "database": ["sqlite", "postgresql"],
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
]

# The processes every project runs, and those an answer adds to the Procfile.
PROCESSES = {"web", "release"}
ANSWER_PROCESSES = {
    ("task_queue", "database"): {"worker"},
    ("scheduler", "clock"): {"clock"},
}

# Strings that betray a part the answers did not ask for.
RESIDUE = {
    ("database", "sqlite"): ["psycopg", "postgres"],
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
    ],
    ("scheduler", "cron"): ["apscheduler", "manage.py clock", "run_clock"],
    ("scheduler", "clock"): ["crontab"],
}

# Paths that exist only for some answers: (answer, value that keeps them, paths).
OPTIONAL_PATHS = [
    (
        "public_site_caching",
        True,
        ["{slug}/pages", "{slug}/pagecache", "tests/test_page_cache.py"],
    ),
    ("task_queue", "database", ["{slug}/queue", "tests/queue"]),
    ("scheduler", "cron", ["crontab", "{slug}/schedule/crontab.py", "tests/test_crontab.py"]),
    ("scheduler", "clock", ["{slug}/schedule/clock.py", "tests/test_clock.py"]),
]

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}


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


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_renders_without_template_leftovers(bake, answers):
    path = bake(**answers)
    for file in tracked_files(path):
        text = file.read_text()
        assert "cookiecutter" not in text or file.name in {".cookiecutter.yaml", "README.md"}, file
        if "/templates/" not in str(file):  # Django's own template syntax lives there
            assert "{{" not in text, file
            assert "{%" not in text, file


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_leaves_no_trace_of_unused_parts(bake, answers):
    path = bake(**answers)
    for (name, value), markers in RESIDUE.items():
        if answer(answers, name) != value:
            continue
        for file in tracked_files(path):
            text = file.read_text().lower()
            for marker in markers:
                assert marker not in text, f"{marker!r} in {file.relative_to(path)}"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_optional_paths_exist_only_when_asked_for(bake, answers):
    path = bake(**answers)
    for name, value, paths in OPTIONAL_PATHS:
        for optional in paths:
            exists = (path / optional.format(slug=path.name)).exists()
            assert exists == (answer(answers, name) == value), optional


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_lint_clean(project, answers):
    baked = project(**answers)
    baked.run("ruff", "check", ".")
    baked.run("ruff", "format", "--check", ".")
    for file in tracked_files(baked.path):
        assert "noqa" not in file.read_text().split("\n", 1)[0], f"file-level noqa in {file}"


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_project_suite_passes_on_sqlite(project, answers):
    baked = project(**answers)
    sqlite_url = f"sqlite:///{baked.path / 'db.sqlite3'}"
    baked.pytest(DATABASE_URL=sqlite_url)


@pytest.mark.parametrize(
    "answers", [c for c in COMBINATIONS if answer(c.values[0], "database") == "postgresql"]
)
def test_project_suite_passes_on_postgresql(project, postgres_lock, answers):
    baked = project(**answers)
    with postgres_lock(shared=True):
        baked.pytest(DATABASE_URL=baked.postgres_url())


@pytest.mark.skipif(
    not os.environ.get("POSTGRES_RESTART_COMMAND"),
    reason="POSTGRES_RESTART_COMMAND (set by .ci/run) names how to restart PostgreSQL",
)
def test_the_clock_keeps_firing_through_a_real_postgresql_restart(project, postgres_lock):
    """The project's restart test, restarting the server for real rather than its sessions."""
    baked = project(database="postgresql", scheduler="clock")
    with postgres_lock(shared=False):
        result = baked.pytest(
            "tests/test_clock_postgresql.py",
            DATABASE_URL=baked.postgres_url(),
            POSTGRES_RESTART_COMMAND=os.environ["POSTGRES_RESTART_COMMAND"],
        )
    assert "1 passed" in result.stdout, result.stdout


@pytest.mark.skipif(
    not os.environ.get("POSTGRES_RESTART_COMMAND"),
    reason="POSTGRES_RESTART_COMMAND (set by .ci/run) names how to restart PostgreSQL",
)
def test_the_worker_waits_out_a_real_postgresql_restart(project, postgres_lock):
    """The project's restart test, restarting the server for real rather than its sessions."""
    baked = project(database="postgresql", task_queue="database")
    with postgres_lock(shared=False):
        result = baked.pytest(
            "tests/queue/test_postgresql.py",
            DATABASE_URL=baked.postgres_url(),
            POSTGRES_RESTART_COMMAND=os.environ["POSTGRES_RESTART_COMMAND"],
        )
    assert "1 passed" in result.stdout, result.stdout


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_django_checks_pass_in_production(project, answers):
    baked = project(**answers)
    baked.manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    baked.manage("makemigrations", "--check", "--dry-run", DATABASE_URL="sqlite://:memory:")


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_procfile_lists_exactly_the_processes_asked_for(bake, answers):
    path = bake(**answers)
    lines = (path / "Procfile").read_text().splitlines()
    expected = PROCESSES.union(
        *(
            added
            for (name, value), added in ANSWER_PROCESSES.items()
            if answer(answers, name) == value
        )
    )
    assert {re.match(r"(\w+):", line).group(1) for line in lines} == expected
