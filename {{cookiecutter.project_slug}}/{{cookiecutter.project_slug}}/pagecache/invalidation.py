"""Wipe the cached pages in the same transaction as any write that changes content.

Every SQL statement of every connection passes through `wipe_pages_on_write`. One
that writes to a content table first replaces the generation token, inside the same
transaction: the new token becomes visible exactly when the change commits, and a
rollback takes it back. Writes made by save(), delete(), the admin, QuerySet.update(),
bulk_create(), bulk_update() and many-to-many changes all reach the database as SQL,
so none of them can slip past, signals or not.

Tables in settings.PAGE_CACHE_IGNORED_WRITES (sessions, the admin log, the cache's own
tables...) are not content: writing them keeps the cached pages.
"""

import functools
import itertools
import re
import secrets

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction

# INSERT [OR IGNORE|REPLACE] INTO t, REPLACE INTO t, UPDATE t, DELETE FROM t.
WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?',
    re.IGNORECASE,
)
ASSIGNED_COLUMN = re.compile(r'"(\w+)"\s*=')
WRITE_VERBS = ("INS", "UPD", "DEL", "REP")

GENERATION_TABLE = "page_cache_generation"
_paused = False


@functools.cache
def ignored_writes():
    """(tables whose writes never wipe, {table: columns an UPDATE may set without wiping})."""
    tables, columns = set(), {}
    for entry in settings.PAGE_CACHE_IGNORED_WRITES:
        parts = entry.split(".")
        if len(parts) == 1:
            models = apps.get_app_config(entry).get_models(include_auto_created=True)
            tables.update(model._meta.db_table for model in models)
        elif len(parts) == 2:
            tables.add(apps.get_model(entry)._meta.db_table)
        else:
            model = apps.get_model(parts[0], parts[1])
            column = model._meta.get_field(parts[2]).column
            columns.setdefault(model._meta.db_table, set()).add(column)
    return frozenset(tables), columns


def forget_ignored_writes(setting, **kwargs):
    """setting_changed (tests' override_settings): read the list again."""
    if setting == "PAGE_CACHE_IGNORED_WRITES":
        ignored_writes.cache_clear()


def changes_content(sql):
    """Whether this statement writes data that pages may show."""
    if sql.lstrip()[:3].upper() not in WRITE_VERBS:
        return False
    match = WRITE.match(sql)
    if match is None:
        return False
    table = match.group(1)
    tables, columns = ignored_writes()
    if table in tables:
        return False
    if table in columns and sql.lstrip()[:6].upper() == "UPDATE":
        assignments = sql.split(" WHERE ", 1)[0].split(" SET ", 1)[-1]
        return not set(ASSIGNED_COLUMN.findall(assignments)) <= columns[table]
    return True


def wipe_pages(connection):
    """Replace the generation token; every page cached under the old one is gone."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            # S608: the only interpolation is a quoted constant table name.
            f"INSERT INTO {quote(GENERATION_TABLE)} (id, token) VALUES (1, %s) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token",
            [secrets.token_hex(8)],
        )


def wipe_pages_on_write(execute, sql, params, many, context):
    """An execute wrapper (Django's database instrumentation) on every connection."""
    if _paused or not changes_content(sql):
        return execute(sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block or not connection.get_autocommit():
        wipe_pages(connection)
        return execute(sql, params, many, context)
    # Autocommit would commit the write and the wipe apart, leaving a moment when
    # a request could cache old data under the new token or serve it under the old.
    with transaction.atomic(using=connection.alias):
        wipe_pages(connection)
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        if cursor.cursor.description is not None:
            # INSERT ... RETURNING: SQLite cannot commit while rows wait to be read.
            cursor.cursor = FetchedRows(cursor.cursor)
        return result


class FetchedRows:
    """A database cursor whose rows were read before its transaction committed."""

    def __init__(self, cursor):
        self._cursor = cursor
        self._rows = iter(cursor.fetchall())

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return self._rows

    def fetchone(self):
        return next(self._rows, None)

    def fetchmany(self, size=None):
        return list(itertools.islice(self._rows, size or self._cursor.arraysize))

    def fetchall(self):
        return list(self._rows)


def watch_connection(sender, connection, **kwargs):
    """connection_created: put the wrapper on this connection, once."""
    if wipe_pages_on_write not in connection.execute_wrappers:
        connection.execute_wrappers.append(wipe_pages_on_write)


def pause_during_migrate(sender, **kwargs):
    """pre_migrate: the generation table may not exist until migrate has run."""
    global _paused  # one switch for the whole process
    _paused = True


def resume_after_migrate(sender, using, **kwargs):
    """post_migrate (and flush): the schema or data changed wholesale, so wipe."""
    global _paused  # one switch for the whole process
    _paused = False
    connection = connections[using]
    if GENERATION_TABLE in connection.introspection.table_names():
        wipe_pages(connection)
