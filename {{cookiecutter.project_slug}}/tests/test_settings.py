"""The settings production depends on, checked in fresh processes."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}


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


def test_the_deploy_checklist_passes_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value" in result.stderr


def test_production_refuses_the_development_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "django-insecure-" + "x" * 50})
    assert "SECRET_KEY must be set to a random value" in result.stderr


def test_production_sends_https_only_cookies_and_hsts():
    script = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS > 0)"
    )
    result = manage("shell", "--verbosity", "0", "-c", script, **PRODUCTION)
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr


def test_health_checks_are_not_redirected_to_https():
    assert r"^healthz$" in settings.SECURE_REDIRECT_EXEMPT


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
