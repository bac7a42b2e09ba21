"""Copy the live SQLite database to a checked file, and bring one back.

Machinery the template keeps up to date; BACKUP_DIR and BACKUP_KEEP in
config/settings.py tune it.

A copy of the file by the file system is not a backup: while the site writes, recent
commits wait in the -wal file and a checkpoint may rewrite pages halfway through the
copy. SQLite's backup API copies every page inside one read transaction instead, so
the copy holds exactly one committed state, and writers carry on meanwhile (WAL).
"""

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader

SUFFIX = ".sqlite3"


class BackupError(Exception):
    """A backup that cannot be made or a file that cannot be restored, said in one sentence."""


def database_path():
    return Path(connections["default"].settings_dict["NAME"])


def backup_directory():
    """settings.BACKUP_DIR, or a directory named backups beside the database file."""
    if settings.BACKUP_DIR:
        return Path(settings.BACKUP_DIR)
    return database_path().parent / "backups"


def open_existing(path, *, mode):
    """A connection to the database at path, which SQLite must not create if it is missing."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=20)


def integrity_errors(database):
    """The lines of what PRAGMA integrity_check finds wrong in a database, or none."""
    rows = [row for (row,) in database.execute("PRAGMA integrity_check")]
    if rows == ["ok"]:
        return []
    lines = [line for row in rows for line in row.splitlines()]
    return [line for line in lines if not line.startswith("*** ")] or lines


def backup_database(*, directory, keep):
    """Copy the live database to a new, timestamped file in directory; keep the newest `keep`.

    Return the new file's path. The file appears only once it passes its integrity check.
    """
    source_path = database_path()
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path} to back up.")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"{source_path.stem}-{stamp}{SUFFIX}"
    partial = target.with_name(f"{target.name}.partial")
    try:
        with (
            closing(open_existing(source_path, mode="rw")) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)  # every page in one step: one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            errors = integrity_errors(copy)
        if errors:
            raise BackupError(f"The copy failed its integrity check ({errors[0]}); none was kept.")
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    remove_old_backups(directory=directory, stem=source_path.stem, keep=keep)
    return target


def remove_old_backups(*, directory, stem, keep):
    """Delete all but the newest `keep` backups; timestamped names sort by age."""
    backups = sorted(directory.glob(f"{stem}-*{SUFFIX}"))
    for old in backups[: max(len(backups) - keep, 0)]:
        old.unlink()


def check_backup(path):
    """Raise BackupError unless path is a sound SQLite database of this site.

    Return the migrations the code has that the backup lacks.
    """
    if not path.is_file():
        raise BackupError(f"{path} is not a file; nothing was restored.")
    try:
        with closing(open_existing(path, mode="ro")) as backup:
            errors = integrity_errors(backup)
            if errors:
                raise BackupError(
                    f"{path} fails its integrity check ({errors[0]}); nothing was restored."
                )
            tables = {name for (name,) in backup.execute("SELECT name FROM sqlite_schema")}
            applied = (
                set(backup.execute("SELECT app, name FROM django_migrations"))
                if "django_migrations" in tables
                else set()
            )
    except sqlite3.DatabaseError as error:
        raise BackupError(
            f"{path} is not a sound SQLite database ({error}); nothing was restored."
        ) from error
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    first_user_migration = (settings.AUTH_USER_MODEL.split(".")[0], "0001_initial")
    if first_user_migration not in applied:
        raise BackupError(f"{path} is not a database of this site; nothing was restored.")
    if unknown := sorted(applied - known):
        app, name = unknown[0]
        raise BackupError(
            f"{path} holds migrations this code does not have ({app}.{name}): restore it "
            "with the code it was taken with; nothing was restored."
        )
    return sorted(known - applied)


def restore_database(path):
    """Replace the live database's content with exactly the backup's, once it passes its checks.

    Return the migrations the code has that the backup lacks (migrate applies them).
    """
    missing = check_backup(path)
    connections.close_all()
    live_path = database_path()
    live_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(open_existing(path, mode="ro")) as backup,
        closing(sqlite3.connect(live_path, timeout=20)) as live,
    ):
        backup.backup(live)  # page by page through SQLite: the -wal file stays coherent
    return missing
