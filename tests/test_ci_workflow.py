"""A new project's CI workflow passes on its first push, as generated, and stays locked."""

import re
import shutil
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from .conftest import MYSQL_URL, POSTGRES_URL, clean_environment, interpreter_missing, skipped_tests
from .test_bake import COMBINATIONS, answer

# The actions the workflow uses, each done here as it is there: a clone of what git
# tracks, and uv on PATH.
ACTIONS = {"actions/checkout@v5", "astral-sh/setup-uv@v6"}

# What the template's README says each project's CI runs.
PROMISED_STEPS = [
    "uv run ruff check",
    "uv run ruff format --check",
    "uv run pytest",
    "uv run manage.py makemigrations --check --dry-run",
]


def workflow(path):
    return yaml.safe_load((path / ".github" / "workflows" / "ci.yml").read_text())


def checkout(source, into):
    """What actions/checkout gives: the files git tracks once the project is pushed."""
    repository = into.parent / "pushed"
    shutil.copytree(source, repository)
    git = ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repository, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repository, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "First push"], cwd=repository, check=True)
    subprocess.run(["git", "clone", "-q", repository, into], check=True)


def run_step(command, *, cwd, env):
    """A run step in GitHub's default shell for Linux runners."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def local_database_url(url):
    """The workflow's DATABASE_URL pointed at this machine's server, on a throwaway database.

    PostgreSQL's password stays in the URL: the local server trusts its clients and
    ignores it, as the service checks it. The local MariaDB's root has no password,
    which a wrong one would not pass: that one goes.
    """
    parts = urlsplit(url)
    local = urlsplit(MYSQL_URL if parts.scheme == "mysql" else POSTGRES_URL)
    assert parts.hostname == "127.0.0.1", "the service's port is mapped to the runner"
    assert parts.port == local.port, "the service listens where the server does"
    user = parts.username if parts.scheme == "mysql" else f"{parts.username}:{parts.password}"
    netloc = f"{user}@{local.hostname}:{local.port}"
    return urlunsplit((parts.scheme, netloc, f"/fewparts_{uuid.uuid4().hex[:12]}", "", ""))


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_ci_workflow_passes_on_the_first_push_and_stays_locked(
    bakes, server_lock, tmp_path, request, answers
):
    source = bakes.render(answers)
    job = workflow(source)["jobs"]["test"]
    steps = job["steps"]
    assert {step["uses"] for step in steps if "uses" in step} == ACTIONS
    runs = [step["run"] for step in steps if "run" in step]
    assert set(PROMISED_STEPS) <= set(runs)

    env = dict(job.get("env", {}))
    services = job.get("services", {})
    if answer(answers, "database") == "postgresql":
        assert services["postgres"]["image"].startswith("postgres:")
        assert "5432:5432" in services["postgres"]["ports"]
        env["DATABASE_URL"] = local_database_url(env["DATABASE_URL"])
    elif answer(answers, "database") == "mysql":
        assert services["mysql"]["image"].startswith("mysql:")
        assert "3306:3306" in services["mysql"]["ports"]
        assert "--health-cmd" in services["mysql"]["options"]
        assert env["DATABASE_URL"].startswith("mysql://root:")
        # The service creates the URL's database, as this test does on the local server.
        service_database = services["mysql"]["env"]["MYSQL_DATABASE"]
        assert urlsplit(env["DATABASE_URL"]).path == f"/{service_database}"
        env["DATABASE_URL"] = local_database_url(env["DATABASE_URL"])
        created = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
        mysql = ["mysql", "-h", "127.0.0.1", "-u", "root", "-e"]
        subprocess.run([*mysql, f"CREATE DATABASE {created}"], check=True)
        request.addfinalizer(
            lambda: subprocess.run([*mysql, f"DROP DATABASE IF EXISTS {created}"], check=True)
        )
    else:
        assert services == {}
        assert "DATABASE_URL" not in env

    clone = tmp_path / "runner" / source.name
    checkout(source, clone)
    assert not (clone / "uv.lock").exists()
    if reason := interpreter_missing(clone):
        pytest.skip(reason)
    junit_xml = tmp_path / "junit.xml"
    env = clean_environment(**env, PYTEST_ADDOPTS=f"-rs --junitxml={junit_xml}")
    with server_lock(answer(answers, "database"), shared=True):
        for step in steps:
            if "run" in step:
                result = run_step(step["run"], cwd=clone, env=env)
                assert result.returncode == 0, f"{step['run']}:\n{result.stdout}{result.stderr}"
    skipped = skipped_tests(junit_xml)
    assert skipped == {}, "the suite on the project's own database skipped tests"

    # The lock the first run wrote, committed: the next run installs exactly it...
    (sync,) = [run for run in runs if re.search(r"\buv sync\b", run)]
    assert (clone / "uv.lock").exists()
    result = run_step(sync, cwd=clone, env=env)
    assert result.returncode == 0, result.stderr
    # ...and fails while it disagrees with pyproject.toml.
    pyproject = clone / "pyproject.toml"
    pyproject.write_text(re.sub(r'\n\s*"whitenoise==[^"]*",', "", pyproject.read_text()))
    result = run_step(sync, cwd=clone, env=env)
    assert result.returncode != 0, "a stale uv.lock passed the workflow's install step"
    assert "uv.lock" in result.stderr, result.stderr
