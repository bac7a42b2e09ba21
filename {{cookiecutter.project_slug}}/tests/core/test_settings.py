"""The settings production depends on, checked in fresh processes."""

import os
import re
import secrets
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from ..support import PROJECT_DIR, Gunicorn, accepts, free_port, http_get, wait_for

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}
REFUSAL = "DEBUG is set neither in the environment nor in .env"
# What git does not track, so what a fresh clone lacks (.env above all).
UNTRACKED = (".env", ".venv", "db.sqlite3*", "staticfiles", "__pycache__", ".*_cache")


def manage(*args, **env):
    """Run manage.py in a fresh process with the given environment on top."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


{%- if cookiecutter.database == "mysql" %}


def test_the_deploy_checklist_passes_in_production(live_database_url):
    # On the test database, with its own checks: MySQL's strict mode (mysql.W002) too.
    result = manage(
        "check",
        "--deploy",
        "--database",
        "default",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        DATABASE_URL=live_database_url,
    )
    assert result.returncode == 0, result.stderr
{%- else %}


def test_the_deploy_checklist_passes_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
{%- endif %}


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value" in result.stderr


def test_production_refuses_the_development_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "django-insecure-" + "x" * 50})
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value" in result.stderr


@pytest.fixture
def fresh_clone(tmp_path):
    """The project as git would clone it, with a SQLite file of its own and no .env."""
    clone = tmp_path / "clone"
    shutil.copytree(PROJECT_DIR, clone, ignore=shutil.ignore_patterns(*UNTRACKED))
    # Nothing of this test process's settings: DEBUG and SECRET_KEY came from its .env.
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return clone, env


def run_in(clone, env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def test_the_web_process_refuses_to_serve_a_fresh_clone_without_settings(fresh_clone, tmp_path):
    clone, env = fresh_clone
    web = Gunicorn(log=tmp_path / "gunicorn.log", cwd=clone, env=env, workers=1)
    assert web.refusal() != 0, web.output()
    assert f"ImproperlyConfigured: {REFUSAL}, so the web process refuses" in web.output()


def test_a_fresh_clone_without_env_still_migrates_runs_and_tests(fresh_clone):
    clone, env = fresh_clone
    result = run_in(clone, env, "manage.py", "migrate", "--no-input")
    assert result.returncode == 0, result.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def listening():
            assert server.poll() is None, "runserver exited"
            return accepts(port)

        wait_for(listening, timeout=60, what="runserver to accept connections")
        assert http_get(port, "/healthz").status == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
    tests = run_in(
        clone, env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/users/test_models.py"
    )
    assert tests.returncode == 0, tests.stdout


@pytest.fixture
def production(fresh_clone):
    """A fresh clone with the production settings a platform sets, built and migrated."""
    clone, env = fresh_clone
    env = {**env, **PRODUCTION}
    for command in ("collectstatic", "migrate"):
        result = run_in(clone, env, "manage.py", command, "--no-input")
        assert result.returncode == 0, result.stderr
    return clone, env


def test_production_serves_https_only_and_health_checks_over_plain_http(production, tmp_path):
    clone, env = production
    with Gunicorn(log=tmp_path / "gunicorn.log", cwd=clone, env=env, workers=1) as web:
        health = web.get("/healthz")
        plain = web.get("/")
        secure = web.get("/", **{"X-Forwarded-Proto": "https"})
        login = web.get("/admin/login/", **{"X-Forwarded-Proto": "https"})
    assert health.status == 200
    assert (plain.status, plain.getheader("Location")) == (301, "https://localhost/")
    assert secure.status == 200
    assert int(re.search(r"max-age=(\d+)", secure.getheader("Strict-Transport-Security"))[1]) > 0
    assert "; Secure" in login.getheader("Set-Cookie"), "the CSRF cookie goes over HTTPS only"


def test_the_web_process_refuses_production_with_a_weak_key(fresh_clone, tmp_path):
    clone, env = fresh_clone
    weak = {**env, **PRODUCTION, "SECRET_KEY": "short"}
    web = Gunicorn(log=tmp_path / "gunicorn.log", cwd=clone, env=weak, workers=1)
    assert web.refusal() != 0, web.output()
    assert "SECRET_KEY must be set to a random value" in web.output()


def test_production_sends_https_only_session_cookies():
    script = "from django.conf import settings; print(settings.SESSION_COOKIE_SECURE)"
    result = manage("shell", "--verbosity", "0", "-c", script, **PRODUCTION)
    assert result.stdout.split() == ["True"], result.stderr


def test_connections_are_persistent_and_health_checked():
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_sqlite_is_tuned_for_several_processes(tmp_path):
    script = (
        "from django.db import connection;"
        "c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0],"
        " c.execute('PRAGMA synchronous').fetchone()[0],"
        " c.execute('PRAGMA busy_timeout').fetchone()[0],"
        " connection.transaction_mode)"
    )
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = manage("shell", "--verbosity", "0", "-c", script, DATABASE_URL=url)
    # synchronous=1 is NORMAL; the busy timeout is in milliseconds.
    assert result.stdout.split() == ["wal", "1", "20000", "IMMEDIATE"], result.stderr


@pytest.mark.django_db
def test_collected_static_files_are_served_under_hashed_names(client, settings, tmp_path):
    """The build step's collectstatic, then WhiteNoise serving the result for a year."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    html = client.get("/").content.decode()
    css = next(path for path in tmp_path.glob("core/site.*.css"))
    assert f"/static/core/{css.name}" in html
    response = client.get(f"/static/core/{css.name}")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
