"""manage.py backup on a database of 100,000 pages, while the site serves and writes.

Bakes a SQLite project with the public pages (public_site_caching=yes), fills its
pages table with 100,000 pages (bodies of 1,000 bytes: about 30,000 SQLite pages of 4 KB;
--body-bytes 3500 gives about 100,000), starts
gunicorn on it (2 workers, production settings) and a writer process that commits a
row every 10 ms, then for each round runs `manage.py backup` while a client keeps
asking for pages. Prints, per round and as medians: the command's wall time (Python
and Django's start-up included), the copy and its integrity check alone (timed inside
the command's process), the backup's size, and the requests served and writes
committed during the backup with their slowest times. Also times VACUUM INTO, the
other online copy SQLite offers, on the same database. Talks to 127.0.0.1 only.

    uv run python benchmarks/backup.py [--pages 100000] [--body-bytes 1000] [--rounds 3]
"""

import argparse
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import closing
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent

# Commits one small row every 10 ms and prints each commit's duration in ms.
WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=20, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS bench_writes (at REAL)")
while True:
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO bench_writes VALUES (?)", (time.time(),))
    db.execute("COMMIT")
    print(f"{time.time()} {(time.perf_counter() - start) * 1000:.2f}", flush=True)
    time.sleep(0.01)
"""

# Run inside the project: the backup as the command makes it, timed without start-up.
TIMED_BACKUP = """
import time, django
django.setup()
from bench_site.backup.sqlite import backup_database, backup_directory
from django.conf import settings
start = time.perf_counter()
path = backup_database(directory=backup_directory(), keep=settings.BACKUP_KEEP)
print(path, time.perf_counter() - start)
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bake(output_dir):
    from cookiecutter.main import cookiecutter

    answers = {"project_name": "Bench Site", "public_site_caching": True}
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=output_dir, extra_context=answers)
    )


def fill(database, *, pages, body_bytes):
    """pages rows in the pages table, each with a body of body_bytes, in one transaction."""
    body = ("lorem ipsum dolor sit amet " * (body_bytes // 27 + 1))[:body_bytes]
    with closing(sqlite3.connect(database)) as db:
        db.executemany(
            "INSERT INTO pages_page (title, slug, body) VALUES (?, ?, ?)",
            ((f"Page {n}", f"page-{n}", f"{n} {body}") for n in range(pages)),
        )
        db.commit()
        (sqlite_pages,) = db.execute("PRAGMA page_count").fetchone()
    return sqlite_pages


class Client(threading.Thread):
    """Asks for random pages one after another, recording when each answer came."""

    def __init__(self, *, port, pages):
        super().__init__(daemon=True)
        self.port, self.pages = port, pages
        self.answers = []  # (finished at, seconds taken, status)
        self.running = True

    def run(self):
        n = 0
        while self.running:
            n = (n * 7919 + 13) % self.pages
            start = time.perf_counter()
            try:
                url = f"http://127.0.0.1:{self.port}/pages/page-{n}/"
                with urllib.request.urlopen(url, timeout=30) as response:
                    status = response.status
            except OSError:
                status = 0
            self.answers.append((time.time(), time.perf_counter() - start, status))


def during(records, start, end):
    return [record for record in records if start <= record[0] <= end]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--body-bytes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fewparts-bench-backup-") as tmp:
        project = bake(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "DATABASE_URL"}},
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(["uv", "sync", "--quiet", "--no-dev"], cwd=project, env=env, check=True)
        python = project / ".venv" / "bin" / "python"
        for command in (["migrate", "-v0"], ["collectstatic", "--no-input", "-v0"]):
            subprocess.run([python, "manage.py", *command], cwd=project, env=env, check=True)
        started = time.perf_counter()
        sqlite_pages = fill(project / "db.sqlite3", pages=args.pages, body_bytes=args.body_bytes)
        print(
            f"{args.pages} pages, {sqlite_pages} SQLite pages of 4 KB, filled in "
            f"{time.perf_counter() - started:.1f} s"
        )

        port = free_port()
        server = subprocess.Popen(
            [
                project / ".venv" / "bin" / "gunicorn",
                "config.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--no-control-socket",
            ],
            cwd=project,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(project / "db.sqlite3")],
            stdout=subprocess.PIPE,
            text=True,
        )
        commits = []
        threading.Thread(
            target=lambda: [
                commits.append(tuple(map(float, line.split()))) for line in writer.stdout
            ],
            daemon=True,
        ).start()
        client = Client(port=port, pages=args.pages)
        try:
            time.sleep(3)  # gunicorn's workers up
            client.start()
            time.sleep(2)
            rows = []
            for _ in range(args.rounds):
                start = time.time()
                wall = time.perf_counter()
                result = subprocess.run(
                    [python, "manage.py", "backup"],
                    cwd=project,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                wall = time.perf_counter() - wall
                end = time.time()
                size = Path(result.stdout.strip()).stat().st_size
                answers = during(client.answers, start, end)
                writes = during(commits, start, end)
                timed = subprocess.run(
                    [python, "-c", TIMED_BACKUP],
                    cwd=project,
                    env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                copy_seconds = float(timed.stdout.split()[-1])
                rows.append((wall, copy_seconds, size, answers, writes))
                served = [a for a in answers if a[2] == 200]
                slowest_request = max((a[1] for a in answers), default=0) * 1000
                slowest_commit = max((w[1] for w in writes), default=0)
                print(
                    f"backup: {wall:.2f} s command, {copy_seconds:.2f} s copy and check, "
                    f"{size / 1e6:.0f} MB; during it {len(answers)} requests ({len(served)} "
                    f"answered 200, slowest {slowest_request:.0f} ms) and {len(writes)} commits "
                    f"(slowest {slowest_commit:.0f} ms)"
                )
                time.sleep(1)
            print(
                f"median: {statistics.median(r[0] for r in rows):.2f} s command, "
                f"{statistics.median(r[1] for r in rows):.2f} s copy and check, "
                f"{statistics.median(r[2] for r in rows) / 1e6:.0f} MB"
            )
        finally:
            client.running = False
            writer.kill()
            server.terminate()
            server.wait()

        # The two online copies SQLite offers, side by side, without the check.
        with closing(sqlite3.connect(project / "db.sqlite3")) as db:
            target = Path(tmp) / "backup-api.sqlite3"
            start = time.perf_counter()
            with closing(sqlite3.connect(target)) as copy:
                db.backup(copy)
            print(f"backup API copy alone: {time.perf_counter() - start:.2f} s")
            target = Path(tmp) / "vacuum-into.sqlite3"
            start = time.perf_counter()
            db.execute("VACUUM INTO ?", (str(target),))
            print(f"VACUUM INTO alone: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
