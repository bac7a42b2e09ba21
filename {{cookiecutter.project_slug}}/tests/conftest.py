"""Shared test setup."""

import pytest
{%- if cookiecutter.public_site_caching %}

from {{ cookiecutter.project_slug }}.pages.models import Page
{%- endif %}


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Serve static files without the manifest that only collectstatic builds.

    test_settings.py runs collectstatic for real to cover the production storage.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
{%- if cookiecutter.public_site_caching %}


@pytest.fixture
def page(db):
    """A page at /pages/hello/, for the page cache's tests."""
    return Page.objects.create(title="Hello", slug="hello", body="first version")
{%- endif %}
{%- if cookiecutter.task_queue == "database" or cookiecutter.scheduler != "none" %}


# Some tests start processes of their own, which must open the test database.


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Keep SQLite's test database in a file, which other processes can open too."""
    from django.db import connection

    if connection.vendor == "sqlite":
        path = tmp_path_factory.mktemp("database") / "test.sqlite3"
        connection.settings_dict["TEST"]["NAME"] = str(path)
{%- endif %}


@pytest.fixture
def live_database_url(transactional_db, settings):
    """A DATABASE_URL naming the test database; other processes see committed rows."""
    database = settings.DATABASES["default"]
{%- if cookiecutter.database == "postgresql" %}
    if database["ENGINE"] == "django.db.backends.postgresql":
        from urllib.parse import quote

        user, password = quote(database["USER"], safe=""), quote(database["PASSWORD"], safe="")
        host, port, name = database["HOST"], database["PORT"], database["NAME"]
        return f"postgres://{user}:{password}@{host}:{port}/{name}"
{%- elif cookiecutter.database == "mysql" %}
    if database["ENGINE"] == "django.db.backends.mysql":
        from urllib.parse import quote

        user, password = quote(database["USER"], safe=""), quote(database["PASSWORD"], safe="")
        host, port, name = database["HOST"], database["PORT"], database["NAME"]
        return f"mysql://{user}:{password}@{host}:{port}/{name}"
{%- endif %}
    return f"sqlite:///{database['NAME']}"


@pytest.fixture
def serve(tmp_path):
    """Start `manage.py serve` on demand (tests/support.py); each tree goes after the test."""
    from .support import serve_fixture

    yield from serve_fixture(tmp_path)
