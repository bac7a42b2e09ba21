"""DatabaseCache with one statement per read or write, no table count, no silent loss.

Machinery the template keeps up to date; tune it with the PAGE_CACHE_ settings in
config/settings.py.

Django's DatabaseCache counts the whole table on every write (COUNT(*) grows with the
table), reads with an IN query plus a separate delete of expired rows, and swallows
database errors. This subclass keeps its table layout and API but:
- get() is one SELECT by primary key that skips expired rows, with no health check
  before it (a dead connection is found by the read itself);
- set() is one upsert (the database's INSERT ... ON CONFLICT or its own spelling), as
  cheap at 100,000 rows as at 1,000;
  expired rows are deleted by `manage.py cull_page_cache`, not by every write;
- database errors reach the caller.
Pages use lookup_page()/store_page(): one statement each, and a stored page is text,
not a pickled response object; the middleware keeps them to MAX_ENTRIES rows.
"""

import base64
import pickle
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import InterfaceError, OperationalError, connections, router
from django.db.models.constants import OnConflict
from django.utils.timezone import now

from .invalidation import GENERATION_TABLE, vendor_module


class PageCache(DatabaseCache):
    def __init__(self, table, params):
        super().__init__(table, params)
        self._kept_cursor = (None, None)  # (the driver's connection, Django's cursor on it)

    def validate_key(self, key):
        """Only what the cache_key column needs; memcached's rules do not apply here."""
        if len(key) > 255:
            raise ValueError(f"Cache key longer than 255 characters: {key[:50]}...")

    def _connection(self):
        return connections[router.db_for_write(self.cache_model_class)]

    def _cursor(self, connection, *, health_check=True):
        """Django's cursor, kept while the connection lasts: making one per call costs
        a tenth of a read from a database server. Caches are per thread, like connections."""
        if connection.queries_logged:  # DEBUG, or a test counting queries
            return connection.cursor()
        if health_check:
            connection.close_if_health_check_failed()
        connection.ensure_connection()
        driver_connection, cursor = self._kept_cursor
        if driver_connection is not connection.connection:
            cursor = connection.cursor()
            self._kept_cursor = (connection.connection, cursor)
        return cursor

    @staticmethod
    def _clock_is_a_parameter(connection):
        """Whether reads compare expires with the time sent along, not the database's clock.

        SQLite compares the text Django stores dates as. A column without a time zone
        (the database's module sets CLOCK_PARAMETER) would be compared with a clock in
        the session's zone, not necessarily the one Django wrote. Elsewhere the
        database compares its own clock, which saves adapting one.
        """
        module = vendor_module(connection.vendor)
        return connection.vendor == "sqlite" or getattr(module, "CLOCK_PARAMETER", False)

    def _sql(self, connection):
        """The statements of this cache, built once per connection vendor."""
        quote = connection.ops.quote_name
        table, generation = quote(self._table), quote(GENERATION_TABLE)
        count = quote("count")
        text = getattr(vendor_module(connection.vendor), "TEXT_TYPE", "TEXT")
        alive = "expires > CURRENT_TIMESTAMP"
        if self._clock_is_a_parameter(connection):
            alive = "expires > %s"
        upsert = connection.ops.on_conflict_suffix_sql(
            [], OnConflict.UPDATE, ["value", "expires"], ["cache_key"]
        )
        # S608: the only interpolations are quoted names and the constants above.
        return {
            "get": f"SELECT value FROM {table} WHERE cache_key = %s AND {alive}",  # noqa: S608
            "lookup": (
                f"SELECT (SELECT CAST(SUM({count}) AS {text}) FROM {generation}),"  # noqa: S608
                f" (SELECT value FROM {table} WHERE cache_key = %s AND {alive})"
            ),
            "set": (
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) {upsert}"  # noqa: S608
            ),
            "delete": f"DELETE FROM {table} WHERE cache_key = %s",  # noqa: S608
        }

    def _statements(self, connection):
        cached = getattr(self, "_statements_for", None)
        if cached is None or cached[0] != connection.vendor:
            cached = self._statements_for = (connection.vendor, self._sql(connection))
        return cached[1]

    def _expires(self, connection, timeout):
        at = self.get_backend_timeout(timeout)  # a timestamp, or None for never
        if at is None:
            expires = datetime.max
        else:
            expires = datetime.fromtimestamp(at, tz=UTC if settings.USE_TZ else None)
        return connection.ops.adapt_datetimefield_value(expires)

    def _alive_params(self, connection, key):
        """The parameters of a read: the key, and the time where the clock is a parameter."""
        if self._clock_is_a_parameter(connection):
            return [key, connection.ops.adapt_datetimefield_value(now())]
        return [key]

    # The cache API, each call one statement.

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        connection = self._connection()
        row = self._read(connection, "get", key)
        if row is None:
            return default
        return pickle.loads(base64.b64decode(row[0].encode()))  # noqa: S301 - our own table

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        self._write(key, pickled, timeout)

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        connection = self._connection()
        cursor = self._cursor(connection)
        cursor.execute(self._statements(connection)["delete"], [key])
        return bool(cursor.rowcount)

    def _write(self, key, text, timeout):
        connection = self._connection()
        self._cursor(connection).execute(
            self._statements(connection)["set"], [key, text, self._expires(connection, timeout)]
        )

    # Pages: the generation token and the page in one read, plain text in one write.

    def lookup_page(self, key):
        """(the current generation token, the text stored under key or None)."""
        return self._read(self._connection(), "lookup", key)

    def _read(self, connection, statement, key):
        """One row of a read statement, without the health check first.

        Django sends a SELECT 1 to a database server before a request's first query
        (CONN_HEALTH_CHECKS), which would double the cost of a read. The read itself
        finds a connection that died since the last request, and is made again on a
        new one: outside a transaction a read is safe to repeat.
        """
        read = self._statements(connection)[statement], self._alive_params(connection, key)
        try:
            cursor = self._cursor(connection, health_check=False)
            cursor.execute(*read)
            return cursor.fetchone()
        except (InterfaceError, OperationalError):
            if connection.in_atomic_block or connection.is_usable():
                raise
            connection.close()
        cursor = self._cursor(connection)
        cursor.execute(*read)
        return cursor.fetchone()

    def store_page(self, key, text, timeout):
        """Store a page, or on SQLite give up at once if another process is writing.

        A miss never queues for SQLite's one write lock, so a flood of misses cannot
        starve the site's real writes. Returns whether the page was stored.
        """
        connection = self._connection()
        if connection.vendor != "sqlite":
            self._write(key, text, timeout)
            return True
        connection.ensure_connection()
        driver = connection.connection
        driver.execute("PRAGMA busy_timeout = 0")
        try:
            self._write(key, text, timeout)
        except OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            return False
        finally:
            waits = connection.settings_dict["OPTIONS"].get("timeout", 5)
            driver.execute(f"PRAGMA busy_timeout = {int(waits * 1000)}")
        return True
