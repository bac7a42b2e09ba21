"""Shared test setup."""

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Serve static files without the manifest that only collectstatic builds.

    test_settings.py runs collectstatic for real to cover the production storage.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
