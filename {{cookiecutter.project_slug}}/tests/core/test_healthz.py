"""The health check answers from the real database, up or down."""

import json
import os
import subprocess
import sys

import pytest

from ..support import PROJECT_DIR


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def healthz_with(database_url):
    """GET /healthz in a process of its own whose database is database_url."""
    env = {**os.environ, "DATABASE_URL": database_url}
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz', HTTP_HOST='localhost');"
        "print(json.dumps([r.status_code, r.json()]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    # A database file in a directory that does not exist cannot be opened.
    status, body = healthz_with(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")
    assert status == 503
    assert body["status"] == "unavailable"
{%- if cookiecutter.database == "postgresql" %}


def test_healthz_answers_503_when_postgresql_is_down():
    # Nothing listens on port 1: the server is down, as during a restart.
    status, body = healthz_with("postgres://postgres@127.0.0.1:1/down")
    assert status == 503
    assert body["status"] == "unavailable"
{%- elif cookiecutter.database == "mysql" %}


def test_healthz_answers_503_when_mysql_is_down():
    # Nothing listens on port 1: the server is down, as during a restart.
    status, body = healthz_with("mysql://root@127.0.0.1:1/down")
    assert status == 503
    assert body["status"] == "unavailable"
{%- endif %}
