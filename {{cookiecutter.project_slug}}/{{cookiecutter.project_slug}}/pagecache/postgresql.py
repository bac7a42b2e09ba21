"""What the page cache does differently on PostgreSQL; invalidation finds it by vendor.

Machinery the template keeps up to date: the cache's rules live in invalidation.py.
"""

import functools

# Each database session counts its own writes: no two open transactions share a row.
SESSION_SLOT = "pg_backend_pid()"

# The counters of sessions that have ended, added to slot 0 so that the sum (the
# token) stays the same while the table keeps one row per live session.
FOLD_ENDED_SESSIONS = """
WITH ended AS (
    DELETE FROM {table} WHERE slot <> 0
    AND slot NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
    RETURNING "count"
)
UPDATE {table} SET "count" = "count" + (SELECT COALESCE(SUM("count"), 0) FROM ended)
WHERE slot = 0
"""

CTE_TAKERS = {"INSERT", "UPDATE", "DELETE"}


@functools.lru_cache(maxsize=1024)
def with_wipe(sql, bump):
    """One statement that writes and wipes, or None: an autocommit write takes the wipe
    along as a data-modifying WITH clause, in one round trip."""
    from .invalidation import FIRST_WORD, LITERAL_OR_COMMENT, blank

    text = LITERAL_OR_COMMENT.sub(blank, sql)
    first = FIRST_WORD.match(text)
    if ";" in text or first is None or first.group(1).upper() not in CTE_TAKERS:
        return None
    return f"WITH page_cache_wipe AS ({bump}) {sql}"


def fold_ended_sessions(cursor, table):
    cursor.execute(FOLD_ENDED_SESSIONS.format(table=table))
