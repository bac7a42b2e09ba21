"""manage.py backup and restore, as processes, on a database file another process writes."""

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from ..support import PROJECT_DIR

# Commits one row at a time, each with the count of rows committed so far, until killed.
# Rows of 2 KB fill SQLite's WAL quickly, so checkpoints rewrite the file all along.
WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=20, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
n = db.execute("SELECT committed FROM probe_state").fetchone()[0]
while True:
    n += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO probe (id, body) VALUES (?, randomblob(2000))", (n,))
    db.execute("UPDATE probe_state SET committed = ?", (n,))
    db.execute("COMMIT")
"""

CHANGE_THEN_DIE = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM probe WHERE id = 1")
db.execute("INSERT INTO probe (id) VALUES (1000000)")
db.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""


def manage(*args, database, backups, keep=7, check=True):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP": str(keep),
    }
    if backups is None:  # the default, beside the database file
        del env["BACKUP_DIR"]
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def probe(path):
    """The probe rows' ids and the count the writer says it committed with them."""
    with closing(sqlite3.connect(path)) as db:
        ids = [row_id for (row_id,) in db.execute("SELECT id FROM probe ORDER BY id")]
        (committed,) = db.execute("SELECT committed FROM probe_state").fetchone()
    return ids, committed


def fingerprint(database):
    """The bytes of the database and its -wal file: what 'untouched' means."""
    files = [database, database.with_name(f"{database.name}-wal")]
    return [hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated database file with the probe tables, copied afresh for each test."""
    path = tmp_path_factory.mktemp("migrated") / "db.sqlite3"
    manage("migrate", "--no-input", database=path, backups=path.parent / "backups")
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # one file to copy
        db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, body BLOB)")
        db.execute("CREATE TABLE probe_state (committed INTEGER)")
        db.execute("INSERT INTO probe_state VALUES (0)")
        db.commit()
    return path


@pytest.fixture
def database(migrated, tmp_path):
    path = tmp_path / "live" / "db.sqlite3"
    path.parent.mkdir()
    path.write_bytes(migrated.read_bytes())
    return path


@pytest.fixture
def writer(database):
    """Another process committing rows continuously for the whole test."""
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(database)])
    deadline = time.monotonic() + 30
    while probe(database)[1] < 2000:  # enough rows that the WAL has been checkpointed
        assert process.poll() is None, "the writer exited"
        assert time.monotonic() < deadline, "the writer commits too slowly"
        time.sleep(0.05)
    yield process
    process.kill()
    process.wait()


def test_a_backup_during_continuous_writes_holds_exactly_one_committed_state(
    database, writer, tmp_path
):
    for _ in range(3):
        committed_before = probe(database)[1]
        result = manage("backup", database=database, backups=tmp_path / "backups")
        committed_after = probe(database)[1]
        backup = Path(result.stdout.strip())
        with closing(sqlite3.connect(backup)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        ids, committed = probe(backup)
        assert ids == list(range(1, committed + 1))
        assert committed_before <= committed <= committed_after
    assert writer.poll() is None, "the writer kept writing throughout"
    assert probe(database)[1] > committed_after


def test_without_backup_dir_backups_go_beside_the_database_file(database):
    backup = Path(manage("backup", database=database, backups=None).stdout.strip())
    assert backup.parent == database.parent / "backups"
    assert backup.is_file()


def test_a_restore_brings_back_exactly_the_backups_rows(database, writer, tmp_path):
    backup = Path(manage("backup", database=database, backups=tmp_path / "backups").stdout.strip())
    writer.kill()
    writer.wait()
    # Later changes, by a process that dies as a site stopped by SIGKILL would: its last
    # commits stay in the -wal file, never copied back into the database file.
    subprocess.run([sys.executable, "-c", CHANGE_THEN_DIE, str(database)], check=False)
    assert database.with_name(f"{database.name}-wal").stat().st_size > 0
    result = manage("restore", str(backup), database=database, backups=tmp_path / "backups")
    assert "Restored" in result.stdout
    assert probe(database) == probe(backup)
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # The site opens the restored database as it did the old one.
    manage("migrate", "--check", database=database, backups=tmp_path / "backups")


def test_retention_keeps_the_newest_backups(database, tmp_path):
    backups = tmp_path / "backups"
    written = [
        Path(manage("backup", database=database, backups=backups, keep=2).stdout.strip())
        for _ in range(4)
    ]
    assert sorted(backups.iterdir()) == written[-2:]


def corrupt(path):
    """Overwrite the middle of the file, where tables and indexes live."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xff" * 8192
    path.write_bytes(bytes(data))


def foreign(path):
    """A sound SQLite database, but not one of this site."""
    path.unlink()
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.commit()


def from_other_code(path):
    """A sound database of this site, with a migration this code does not have."""
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('users', '9999_from_the_future', datetime('now'))"
        )
        db.commit()


def not_a_database(path):
    path.write_text("id,body\n1,hello\n")


@pytest.mark.parametrize("spoil", [corrupt, foreign, from_other_code, not_a_database])
def test_a_bad_file_is_refused_and_the_live_database_untouched(database, tmp_path, spoil):
    backups = tmp_path / "backups"
    backup = Path(manage("backup", database=database, backups=backups).stdout.strip())
    spoil(backup)
    with closing(sqlite3.connect(database)) as db:
        db.execute("INSERT INTO probe (id) VALUES (7)")
        db.commit()
    before = fingerprint(database)
    result = manage("restore", str(backup), database=database, backups=backups, check=False)
    assert result.returncode == 1
    message = result.stderr.strip().removeprefix("CommandError: ")
    assert message.endswith("nothing was restored.")
    assert message.count(". ") == 0, "one sentence"
    assert fingerprint(database) == before
    assert probe(database)[0] == [7]


def test_a_backup_older_than_some_migrations_is_restored_and_says_so(database, tmp_path):
    backups = tmp_path / "backups"
    # The site as it was before its code's last admin migration.
    manage("migrate", "admin", "0002", "--no-input", database=database, backups=backups)
    backup = Path(manage("backup", database=database, backups=backups).stdout.strip())
    manage("migrate", "--no-input", database=database, backups=backups)
    result = manage("restore", str(backup), database=database, backups=backups)
    assert "predates 1 migration(s) of this code: run migrate." in result.stdout
    unapplied = manage("migrate", "--check", database=database, backups=backups, check=False)
    assert unapplied.returncode == 1, "the restored database is the older one"
    manage("migrate", "--no-input", database=database, backups=backups)
    manage("migrate", "--check", database=database, backups=backups)
