"""
Django settings, read from the environment.

Development takes its values from .env (written when the project was generated);
a platform sets the same variables for production. .env.example lists them all.
https://docs.djangoproject.com/en/6.1/ref/settings/
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # variables already set in the environment win


# Security
# https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/

# SECURITY WARNING: don't run with debug turned on in production!
# A fresh clone runs in development mode; production sets DEBUG=false.
DEBUG = env.bool("DEBUG", default=True)

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 50 or more characters when "
        "DEBUG is off; make one with: "
        'python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[
        "{{ cookiecutter.domain_name }}",
        "localhost",
        "127.0.0.1",
    ],
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[
        "https://{{ cookiecutter.domain_name }}",
    ],
)

# TLS ends at the platform's proxy, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # platform health checks speak plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# Joining the browsers' HSTS preload list is hard to undo: opt in with
# SECURE_HSTS_PRELOAD=true once HTTPS works everywhere on the domain.
SILENCED_SYSTEM_CHECKS = ["security.W021"]


# Application definition

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "{{ cookiecutter.project_slug }}.core",
    "{{ cookiecutter.project_slug }}.users",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
{%- if cookiecutter.public_site_caching %}
    # Early, so that a hit skips sessions, CSRF and the view; after WhiteNoise, which
    # serves static files first, and SecurityMiddleware, which still adds its headers.
    "{{ cookiecutter.project_slug }}.pagecache.middleware.PageCacheMiddleware",
{%- endif %}
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


# Database
# https://docs.djangoproject.com/en/6.1/ref/settings/#databases

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
{%- if cookiecutter.database == "sqlite" %}
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
{%- elif cookiecutter.database == "mysql" %}
        default="mysql://root@127.0.0.1:3306/{{ cookiecutter.project_slug }}",
{%- else %}
        default="postgres://postgres@127.0.0.1:5432/{{ cookiecutter.project_slug }}",
{%- endif %}
    )
}
# Keep connections open between requests, and check them before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# SQLite, tuned for several processes sharing one file: readers never block the
# writer (WAL), writers queue for the lock up front instead of failing halfway
# through a transaction (IMMEDIATE), and commits skip a disk flush that WAL
# does not need for integrity (synchronous=NORMAL).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
{%- if cookiecutter.database == "mysql" %}

# MySQL and MariaDB, set up as Django expects whatever the server's defaults:
# 4-byte UTF-8 (emoji included) for the connection and the tables the tests create;
# strict SQL mode, so that a value too long for its column is an error, not silently
# cut; the session in UTC, the zone Django writes with USE_TZ; and READ COMMITTED,
# which Django's documentation recommends over MySQL's REPEATABLE READ (get_or_create
# and the like see other transactions' commits).
# https://docs.djangoproject.com/en/6.1/ref/databases/#mysql-notes
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"]["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='TRADITIONAL', time_zone='+00:00'",
        "isolation_level": "read committed",
    }
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
{%- endif %}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Users
# https://docs.djangoproject.com/en/6.1/topics/auth/customizing/

AUTH_USER_MODEL = "users.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# Internationalization
# https://docs.djangoproject.com/en/6.1/topics/i18n/

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# Static files, served by WhiteNoise from the web process
# https://whitenoise.readthedocs.io/

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# Logging: everything to standard error, where platforms collect it.
# https://docs.djangoproject.com/en/6.1/topics/logging/

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print each of its lines a second time.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
{%- if cookiecutter.database == "sqlite" %}


# Backups: `manage.py backup` copies the database, while the site runs, to a new
# file in BACKUP_DIR and keeps the newest BACKUP_KEEP; `manage.py restore FILE`
# brings one back (README.md, "Backups").

INSTALLED_APPS += ["{{ cookiecutter.project_slug }}.backup"]
# Unset, a directory named backups beside the database file: on the disk or volume
# that holds the database.
BACKUP_DIR = env.str("BACKUP_DIR", default=None)
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
{%- endif %}
{%- if cookiecutter.public_site_caching %}


# Public site caching
# Whole pages for anonymous visitors, kept in a table of this database and wiped
# by any committed change to the data (docs: {{ cookiecutter.project_slug }}/pagecache/).
# https://docs.djangoproject.com/en/6.1/topics/cache/#database-caching

INSTALLED_APPS += [
    "{{ cookiecutter.project_slug }}.pages",
    "{{ cookiecutter.project_slug }}.pagecache",
]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Pages only, in a table of their own (created by migrate): wiping pages wipes
    # nothing else. Expired rows go with `manage.py cull_page_cache`.
    "pages": {
        "BACKEND": "{{ cookiecutter.project_slug }}.pagecache.backend.PageCache",
        "LOCATION": "page_cache",
        "TIMEOUT": env.int("PAGE_CACHE_SECONDS", default=600),
        # At most this many pages, however many URLs arrive: each URL has one slot.
        "OPTIONS": {"MAX_ENTRIES": env.int("PAGE_CACHE_MAX_ENTRIES", default=10_000)},
    },
}
PAGE_CACHE_ALIAS = "pages"
# Cookies that never change a page (analytics, consent you do not render): a request
# carrying only these still gets cached pages. Any other cookie skips the cache.
PAGE_CACHE_IGNORED_COOKIES = [
    "csrftoken",  # a page that uses the visitor's token is never stored anyway
]
# Writes that are not content and keep the cached pages: an app label, a model, or a
# model's field (an UPDATE that sets only such fields). Anything else wipes them.
# The project's apps name their own bookkeeping (AppConfig.bookkeeping) besides.
PAGE_CACHE_IGNORED_WRITES = [
    "sessions",
    "admin.LogEntry",
    "users.User.last_login",  # written at every sign-in
]
{%- endif %}
{%- if cookiecutter.task_queue == "database" %}


# Task queue: tasks wait in this database until the worker process (the
# Procfile's `worker` line) runs them. README.md, "Background tasks", says how.
# https://docs.djangoproject.com/en/6.1/topics/tasks/

INSTALLED_APPS += ["django_tasks_db", "{{ cookiecutter.project_slug }}.queue"]

TASKS = {
    "default": {
        # django-tasks-db's backend, with retries: @task(attempts=..., backoff=...).
        "BACKEND": "{{ cookiecutter.project_slug }}.queue.backend.DatabaseBackend",
        # A task on a queue missing here fails when its module is imported.
        "QUEUES": ["default"],
    },
}

# A worker that has not written its heartbeat for this many seconds is dead: a
# live worker puts the task it was running back in the queue.
TASK_WORKER_DEAD_AFTER = env.int("TASK_WORKER_DEAD_AFTER", default=30)

# Seconds a task may run before it is stopped and counts as a failed attempt;
# @task(time_limit=...) sets one task's own.
TASK_TIME_LIMIT = env.int("TASK_TIME_LIMIT", default=600)

# How many runs a task without @task(attempts=...) gets in all when its worker dies
# running it (killed, out of memory): a task that kills every worker ends FAILED.
TASK_DEFAULT_ATTEMPTS = 3

# The third-party service that the example task (/tasks/example) calls.
TASK_EXAMPLE_URL = env.str("TASK_EXAMPLE_URL", default="https://example.com/")
{%- endif %}
{%- if cookiecutter.scheduler != "none" %}


# Scheduler: jobs that run at set times, listed in
# {{ cookiecutter.project_slug }}/schedule/jobs.py. Each runs once per scheduled
# time, however many clocks or cron hosts fire it: they claim the time in the
# database first.

INSTALLED_APPS += ["{{ cookiecutter.project_slug }}.schedule"]

# Accounts with no sign-in for this many days are deactivated each night, superusers
# aside (the deactivate_dormant_users job); unset, none are.
DORMANT_USER_DAYS = env.int("DORMANT_USER_DAYS", default=None)
{%- if cookiecutter.scheduler == "clock" %}

# The clock logs each start and each job itself; APScheduler's own lines would say it
# twice. Its warnings (a job that failed, or ran late) still show.
LOGGING["loggers"]["apscheduler"] = {"level": "WARNING"}
{%- endif %}
{%- endif %}


# This project's own settings
# Add yours below. Updates from the template (README.md, "Keep current") never
# change this section, so what you add here merges without a conflict.
