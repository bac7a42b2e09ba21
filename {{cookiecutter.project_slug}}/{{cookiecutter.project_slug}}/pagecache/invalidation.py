"""Wipe the cached pages in the same transaction as any write that may change content.

Machinery the template keeps up to date; tune it with the PAGE_CACHE_ settings in
config/settings.py.

Every SQL statement of every connection passes through `wipe_pages_on_write`. One that
may write to a content table first moves the generation token on, inside the same
transaction: the new token becomes visible exactly when the change commits, and a
rollback takes it back. Writes made by save(), delete(), the admin, QuerySet.update(),
bulk_create(), bulk_update(), many-to-many changes and raw SQL all reach the database as
SQL, so none of them can slip past, signals or not.

The token is the sum of one counter per database session (on a database server, one
row per server session; SQLite, which has one writer at a time, uses one counter). A
transaction adds 1 to its own session's row, so no two open transactions ever lock the
same row: the cache adds no lock wait and no deadlock between writers. Counters only
grow, so every commit that changes content changes the sum.

A statement keeps the cached pages only when it provably reads, or writes only tables
and fields in settings.PAGE_CACHE_IGNORED_WRITES (sessions, the admin log...) or in an
app's `bookkeeping` (the cache's own tables, the queue's...). Anything not understood
wipes them: a write to several tables at once, a string whose escapes may end it
elsewhere, a statement that is not a read or a plain write.
The database's module (pagecache/<vendor>.py) may spell names, strings, comments and
write targets its own way.
"""

import contextlib
import functools
import itertools
import logging
import re
from importlib import import_module
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import NO_DB_ALIAS

logger = logging.getLogger(__name__)

GENERATION_TABLE = "page_cache_generation"
PAGE_TABLE = "page_cache"

# String literals and comments, matched together so that "--" inside a string is text.
LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
# Statements that change no table's rows. SELECT can call a function that writes; that
# is as invisible as a write made outside Django (README).
READS = frozenset({
    "SELECT", "VALUES", "SHOW", "SET", "RESET", "BEGIN", "START", "COMMIT", "END",
    "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "LISTEN", "UNLISTEN", "NOTIFY", "LOCK",
    "FETCH", "CLOSE", "VACUUM", "ANALYZE",
})  # fmt: skip
# Words that write data, and the phrases that contain UPDATE without writing.
DATA_WRITE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|REPLACE|TRUNCATE|COPY)\b", re.I)
NOT_A_WRITE = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b|\bDO\s+UPDATE\b|\bREPLACE\s*\(", re.I
)
NAME = r'(?:"[^"]+"|\w+)'
TARGET = re.compile(
    rf"\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)"
    rf"\s+(?:ONLY\s+)?({NAME}(?:\s*\.\s*{NAME})*)",
    re.I,
)
FIRST_WORD = re.compile(r"[\s(]*(\w+)")
END_OF_SET = re.compile(r"\b(?:WHERE|FROM|RETURNING)\b", re.I)
# What may follow an UPDATE's table: an alias, then SET. Anything else (a comma, a
# JOIN) names more tables, which this reader does not follow.
ONE_TABLE_UPDATE = re.compile(r"\s*(?:(?:AS\s+)?[^\s,()]+\s+)?SET\b", re.I)
MORE_TABLES = re.compile(r"\s*[,.]")
# The upsert that adds 1 to a session's counter, where the database's module has none.
BUMP = (
    'INSERT INTO {table} (slot, "count") VALUES ({slot}, 1) '
    'ON CONFLICT (slot) DO UPDATE SET "count" = {table}."count" + 1'
)


@functools.cache
def vendor_module(vendor):
    """pagecache/<vendor>.py, for what only that database does; None for SQLite's way.

    A project holds the module of its own database alone (SQLite needs none).
    """
    name = f"{__package__}.{vendor}"
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:  # the module is there but needs something missing
            raise
        return None


@functools.cache
def ignored_writes():
    """(tables whose writes never wipe, {table: columns an UPDATE may set without wiping})."""
    tables, columns = {PAGE_TABLE, GENERATION_TABLE}, {}
    declared = (getattr(config, "bookkeeping", ()) for config in apps.get_app_configs())
    for entry in itertools.chain(settings.PAGE_CACHE_IGNORED_WRITES, *declared):
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


@functools.cache
def cache_alias():
    """The database alias that holds the cached pages and the generation token."""
    from .models import CacheEntry

    return router.db_for_write(CacheEntry)


def forget_settings(setting, **kwargs):
    """setting_changed (tests' override_settings): read the settings again."""
    if setting == "PAGE_CACHE_IGNORED_WRITES":
        ignored_writes.cache_clear()
        writes_content.cache_clear()
    if setting in {"DATABASES", "DATABASE_ROUTERS"}:
        cache_alias.cache_clear()


def changes_content(sql, vendor):
    """Whether this SQL (one statement or several) may change data that pages show."""
    if not isinstance(sql, str):  # a composed query object: not read, so not trusted
        return True
    if sql[:6].upper() == "SELECT" and ";" not in sql:
        return False  # the ORM's reads, decided without parsing
    return writes_content(sql, vendor)


@functools.lru_cache(maxsize=1024)
def writes_content(sql, vendor):
    """changes_content() for a statement that needs reading; the ORM repeats its SQL
    (the values travel apart), so each text is read once."""
    syntax = dialect(vendor)
    text = syntax.literal_or_comment.sub(syntax.blank, sql)
    if "\\" in text:  # a string kept whole: where it ends depends on how escapes are read
        return True
    return any(statement_changes_content(part, syntax) for part in text.split(";") if part.strip())


def blank(match):
    """A string literal becomes an empty one, a comment a space. An E'' string holding
    a backslash stays: an escaped quote may end it elsewhere than this reader thinks."""
    text = match.group()
    if not text.startswith("'"):
        return " "
    escapes = match.start() > 0 and match.string[match.start() - 1] in "Ee"
    return text if escapes and "\\" in text else "''"


def table_name(name):
    """A table's name as the database compares it: quoted exactly, else in lower case."""
    return name[1:-1] if name.startswith('"') else name.lower()


@functools.cache
def dialect(vendor):
    """How this database spells strings, comments, names and the table a write targets."""
    module = vendor_module(vendor)
    return SimpleNamespace(
        literal_or_comment=getattr(module, "LITERAL_OR_COMMENT", LITERAL_OR_COMMENT),
        blank=getattr(module, "blank", blank),
        name=getattr(module, "NAME", NAME),
        reads=getattr(module, "READS", READS),
        runs_another=getattr(module, "RUNS_ANOTHER", None),
        not_a_write=getattr(module, "NOT_A_WRITE", NOT_A_WRITE),
        target=getattr(module, "TARGET", TARGET),
        table_name=getattr(module, "table_name", table_name),
    )


def statement_changes_content(text, syntax):
    """One statement, literals and comments blanked out."""
    first = FIRST_WORD.match(text)
    verb = first.group(1).upper() if first else ""
    if syntax.runs_another and syntax.runs_another.match(text):
        return True  # a read's first word before a statement it runs
    if verb in syntax.reads:
        return False
    if verb not in {"INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"}:
        return True  # MERGE, TRUNCATE, COPY, DDL, CALL, DO, or a statement not understood
    text = syntax.not_a_write.sub(" ", text)
    writes = DATA_WRITE.findall(text)
    targets = syntax.target.findall(text)
    if len(writes) != len(targets):
        return True  # a write whose table cannot be read off the statement
    tables, columns = ignored_writes()
    for match in syntax.target.finditer(text):
        verb, rest = match.group(1).split()[0].upper(), text[match.end() :]
        if verb == "UPDATE" and not ONE_TABLE_UPDATE.match(rest):
            return True
        if verb == "DELETE" and MORE_TABLES.match(rest):
            return True
        table = syntax.table_name(re.split(r"\s*\.\s*", match.group(2))[-1])
        if table in tables:
            continue
        only_ignored_fields = verb == "UPDATE" and table in columns
        if only_ignored_fields and assigned_columns(rest, syntax.name) <= columns[table]:
            continue
        return True
    return False


def assigned_columns(rest, name):
    """The columns an UPDATE's SET clause assigns, read to its end at any depth."""
    rest = rest.lstrip()
    if not rest[:4].upper().startswith("SET"):
        return {None}
    items, depth, start, i = [], 0, 3, 3
    while i < len(rest):
        char = rest[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break  # the end of a WITH's parenthesised UPDATE
        elif depth == 0 and char == ",":
            items.append(rest[start:i])
            start = i + 1
        elif depth == 0 and END_OF_SET.match(rest, i) and not rest[i - 1].isalnum():
            break
        i += 1
    items.append(rest[start:i])
    assigned = set()
    for item in items:
        target = item.split("=", 1)[0]
        names = re.findall(name, target)
        if "=" not in item or not names:
            return {None}
        assigned.update(found.strip('"`') for found in names)
    return assigned


@functools.cache
def bump_sql(vendor, quote):
    """The upsert that adds 1 to this session's counter."""
    module = vendor_module(vendor)
    slot = getattr(module, "SESSION_SLOT", "0")
    return getattr(module, "BUMP", BUMP).format(table=quote(GENERATION_TABLE), slot=slot)


def run_on_driver(connection, sql):
    """Send SQL on the driver's own connection: it needs no reading, nor Django's cursor."""
    connection.ensure_connection()
    driver = connection.connection
    if hasattr(driver, "execute"):  # the drivers that have this shortcut
        driver.execute(sql)
        return
    cursor = driver.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def wipe_pages(connection):
    """Move the generation token on: every page cached under the old one is gone."""
    run_on_driver(connection, bump_sql(connection.vendor, connection.ops.quote_name))


def wipe_cache_database():
    """Move the token on in the cache's database, in a transaction of its own if none is open."""
    connection = connections[cache_alias()]
    if connection.in_atomic_block:
        wipe_pages(connection)
    else:
        with transaction.atomic(using=connection.alias):
            wipe_pages(connection)


def wipe_pages_on_write(execute, sql, params, many, context):
    """An execute wrapper (Django's database instrumentation) on every connection."""
    connection = context["connection"]
    if _paused or not changes_content(sql, connection.vendor):
        return execute(sql, params, many, context)
    if connection.alias == NO_DB_ALIAS:  # the server's own database: CREATE DATABASE and such
        return execute(sql, params, many, context)
    if connection.alias != cache_alias():
        return write_elsewhere(execute, sql, params, many, context)
    if connection.in_atomic_block or not connection.get_autocommit():
        wipe_pages(connection)
        return execute(sql, params, many, context)
    # Autocommit would commit the write and the wipe apart, leaving a moment when
    # a request could cache old data under the new token or serve it under the old.
    with_wipe = getattr(vendor_module(connection.vendor), "with_wipe", None)
    if with_wipe is None:
        return write_in_a_transaction(execute, sql, params, many, context)
    if statement := with_wipe(sql, bump_sql(connection.vendor, connection.ops.quote_name)):
        return execute(statement, params, many, context)
    with transaction.atomic(using=connection.alias):
        wipe_pages(connection)
        return execute(sql, params, many, context)


def write_in_a_transaction(execute, sql, params, many, context):
    """Autocommit: the write and the wipe in one transaction, begun and ended on the
    driver, one statement each. BEGIN takes no lock; the write takes its locks (on
    SQLite, the one write lock) as it would in autocommit, and the wipe and COMMIT
    follow at once, so they are held for little more than the write itself (Django's
    atomic() would hold them across Python, and switch autocommit off and on)."""
    connection = context["connection"]
    run_on_driver(connection, "BEGIN")
    try:
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        if cursor.cursor.description is not None:
            # INSERT ... RETURNING: SQLite cannot commit while rows wait to be read.
            cursor.cursor = FetchedRows(cursor.cursor)
        wipe_pages(connection)
    except BaseException:
        with contextlib.suppress(connection.Database.Error):  # the first error says more
            run_on_driver(connection, "ROLLBACK")
        raise
    run_on_driver(connection, "COMMIT")
    return result


def write_elsewhere(execute, sql, params, many, context):
    """A write to a database that does not hold the cache: wipe before it and after its commit.

    Two databases share no transaction, so a page rendered while this write's transaction
    was open may be served in the instant between its commit and the wipe that follows.
    """
    connection = context["connection"]
    wipe_cache_database()
    result = execute(sql, params, many, context)
    if connection.in_atomic_block or not connection.get_autocommit():
        transaction.on_commit(wipe_cache_database, using=connection.alias, robust=True)
    else:
        wipe_cache_database()
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


# migrate changes tables the token's upsert may need; the migrate command pauses the
# wrapper and wipes after each migration it applies, and once more however it ends.
_paused = False


def pause(paused):
    global _paused  # one switch for the whole process
    _paused = paused


def wipe_after_schema_change():
    """Wipe by the token if its table is current, and by deleting every cached page too.

    migrate runs it, and `manage.py wipe_page_cache` after a write made outside Django.
    """
    connection = connections[cache_alias()]
    tables = connection.introspection.table_names()
    if GENERATION_TABLE in tables:
        try:
            with transaction.atomic(using=connection.alias):
                wipe_pages(connection)
        # The table as an older migration left it; the driver's own error, as wipe_pages
        # speaks to the driver directly.
        except (DatabaseError, connection.Database.Error):
            # Every migrate from an empty database passes here once (0001's layout): not news.
            logger.debug("The page cache's token could not move; deleting every cached page")
    if PAGE_TABLE in tables:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(PAGE_TABLE)}")  # noqa: S608


def wipe_after_flush(sender, using, **kwargs):
    """post_migrate, which flush sends too: the data changed wholesale."""
    if not _paused:
        wipe_after_schema_change()
