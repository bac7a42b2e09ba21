"""What the page cache does differently on MySQL and MariaDB; invalidation finds it by vendor.

Machinery the template keeps up to date: the cache's rules live in invalidation.py.
"""

import re

# Each database session counts its own writes: no two open transactions share a row.
SESSION_SLOT = "CONNECTION_ID()"

# The session's counter plus 1. The slot is the primary key, so InnoDB locks that one
# row and no gap: writers of other sessions never wait for it.
BUMP = (
    "INSERT INTO {table} (slot, `count`) VALUES ({slot}, 1) "
    "ON DUPLICATE KEY UPDATE `count` = `count` + 1"
)

# SUM() of integers is a DECIMAL here; CHAR is the text type CAST knows.
TEXT_TYPE = "CHAR"

# DATETIME holds no zone: expires is compared with the time the web process sends
# (UTC with USE_TZ), the clock that wrote it, not with the session's time_zone.
CLOCK_PARAMETER = True

# Statements that change no table's rows (as invalidation.READS, with this server's own).
READS = frozenset({
    "SELECT", "VALUES", "TABLE", "SHOW", "SET", "BEGIN", "START", "COMMIT", "ROLLBACK",
    "SAVEPOINT", "RELEASE", "LOCK", "UNLOCK", "KILL", "ANALYZE", "DESCRIBE", "DESC",
    "HELP", "USE",
})  # fmt: skip
# A read's first word before a statement it runs: MariaDB's SET STATEMENT ... FOR
# <statement> and ANALYZE <statement> (which runs it); ANALYZE TABLE only reads.
RUNS_ANOTHER = re.compile(
    r"[\s(]*(?:SET\s+STATEMENT\b|ANALYZE\s+(?!(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLES?\b))",
    re.I,
)

# Backtick names (kept as they are); strings in single or double quotes, where a
# backslash escapes (blanked); comments after #, after "-- " (a space is required)
# and between /* */. /*! ... */ and /*M! ... */ are run as SQL, so they stay.
LITERAL_OR_COMMENT = re.compile(
    r"`(?:[^`]|``)*`"
    r"|'(?:[^'\\]|\\.|'')*'"
    r'|"(?:[^"\\]|\\.|"")*"'
    r"|#[^\n]*"
    r"|--(?:\s|$)[^\n]*"
    r"|/\*(?!!|M!).*?\*/",
    re.DOTALL,
)

# Phrases that contain UPDATE or REPLACE without writing another table.
NOT_A_WRITE = re.compile(
    r"\bFOR\s+(?:UPDATE|SHARE)\b|\bON\s+DUPLICATE\s+KEY\s+UPDATE\b|\bREPLACE\s*\(", re.I
)
NAME = r"(?:`(?:[^`]|``)+`|\w+)"
# The table written by INSERT, REPLACE (INTO is optional in both), UPDATE and DELETE,
# whatever modifiers come first. DELETE t1, t2 FROM ... (several tables) has no match,
# so it is not understood and wipes.
TARGET = re.compile(
    r"\b(INSERT(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\b)*(?:\s+INTO\b)?"
    r"|REPLACE(?:\s+(?:LOW_PRIORITY|DELAYED)\b)*(?:\s+INTO\b)?"
    r"|UPDATE(?:\s+(?:LOW_PRIORITY|IGNORE)\b)*"
    r"|DELETE(?:\s+(?:LOW_PRIORITY|QUICK|IGNORE)\b)*\s+FROM)"
    rf"\s+({NAME}(?:\s*\.\s*{NAME})*)",
    re.I,
)


def blank(match):
    """A string becomes an empty one, a comment a space; a name stays.

    A string holding a backslash stays too: where it ends depends on the server's
    sql_mode (NO_BACKSLASH_ESCAPES), and invalidation wipes for any backslash left.
    """
    text = match.group()
    if text.startswith("`") or "\\" in text:
        return text
    return "''" if text[0] in "'\"" else " "


def table_name(name):
    """A table's name as the server compares it: names are case-sensitive on Linux."""
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


# The counters of sessions that have ended, added to slot 0 so that the sum (the
# token) stays the same while the table keeps one row per live session. The ended
# slots are found by a plain read (no lock), then locked by primary key, which waits
# only for a session that took the same id since and is still writing.
ENDED_SLOTS = (
    "SELECT slot FROM {table} WHERE slot <> 0"
    " AND slot NOT IN (SELECT ID FROM information_schema.PROCESSLIST)"
)
LOCK_SLOTS = "SELECT COALESCE(SUM(`count`), 0) FROM {table} WHERE slot IN ({slots}) FOR UPDATE"
DELETE_SLOTS = "DELETE FROM {table} WHERE slot IN ({slots})"
ADD_TO_SLOT_0 = "UPDATE {table} SET `count` = `count` + %s WHERE slot = 0"


def fold_ended_sessions(cursor, table):
    """In the caller's transaction. PROCESSLIST lists only this account's sessions
    without the PROCESS privilege: a live session of another account is folded too,
    which keeps the sum, as its row is locked first and its next write adds a new one."""
    cursor.execute(ENDED_SLOTS.format(table=table))
    ended = [int(slot) for (slot,) in cursor.fetchall()]
    if not ended:
        return
    slots = ", ".join(map(str, ended))
    cursor.execute(LOCK_SLOTS.format(table=table, slots=slots))
    (total,) = cursor.fetchone()
    cursor.execute(DELETE_SLOTS.format(table=table, slots=slots))
    cursor.execute(ADD_TO_SLOT_0.format(table=table), [total])
