"""The WSGI application that gunicorn serves (see Procfile)."""

import os
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# SECURITY WARNING: with DEBUG set nowhere, settings fall back to development (debug
# pages and a public secret key): right for runserver on a fresh clone, never for a server.
RUNSERVER = "django.core.management.commands.runserver"
if settings.DEBUG and "DEBUG" not in os.environ and RUNSERVER not in sys.modules:
    raise ImproperlyConfigured(
        "DEBUG is set neither in the environment nor in .env, so the web process refuses "
        "to serve development settings: set DEBUG=false and SECRET_KEY in production, or "
        "DEBUG=true in .env to serve development on purpose."
    )
