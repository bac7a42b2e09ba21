"""Every line of every project's Procfile, run as a platform runs it, does what it says."""

import contextlib
import datetime
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import MYSQL_URL, POSTGRES_URL, clean_environment
from .test_bake import COMBINATIONS, answer

WEB_CONCURRENCY = 2  # gunicorn's default is 1
# The clock (with a queue, the worker that keeps it) runs under faketime, on a time of
# day CLOCK_LEAD seconds before the first job of the project's real schedule,
# clearsessions at 03:17 UTC: time to start up.
FIRST_JOB, FIRST_JOB_TIME = "clearsessions", datetime.time(3, 17)
CLOCK_LEAD = 30  # seconds; a loaded machine starts Django slowly


def procfile(path):
    """The Procfile's lines as {process: command}."""
    lines = (path / "Procfile").read_text().splitlines()
    return dict(re.fullmatch(r"(\w+): (.+)", line).groups() for line in lines)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, what, processes, timeout=60):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited:\n{process.log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)
    return value


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return None, None


def descendants(pid):
    """The pids of every process below pid."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Platform:
    """Runs Procfile lines with `sh -c` in the project's environment, as a platform does."""

    def __init__(self, project, tmp_path, env):
        self.project = project
        self.tmp_path = tmp_path
        venv_bin = project.venv / "bin"
        self.env = clean_environment(**env, PATH=f"{venv_bin}:{os.environ['PATH']}")
        self.processes = {}

    def run(self, line, **env):
        return subprocess.run(
            ["sh", "-c", line],
            cwd=self.project.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self, name, line, *, prefix=(), **env):
        log = self.tmp_path / f"{name}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [*prefix, "sh", "-c", line],
                cwd=self.project.path,
                env={**self.env, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, signalled as one
            )
        process.log = log
        self.processes[name] = process
        return process

    def stop(self, name, timeout=15):
        """SIGTERM to the process group, as a platform stops a process; every process in it
        must be gone within timeout seconds."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(process.pid):
            process.poll()  # reap sh, the group's leader, once it exits
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                raise AssertionError(f"{name} ignored SIGTERM for {timeout} s")
            time.sleep(0.05)
        # sh itself dies of the signal (dash runs the line as its child).
        assert process.wait() in {0, -signal.SIGTERM}, process.log.read_text()

    def stop_all(self):
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def fresh_database(answers, tmp_path):
    """A database nobody has used yet, and how to drop it."""
    if answer(answers, "database") == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}", lambda: None
    name = f"fewparts_{uuid.uuid4().hex[:12]}"
    if answer(answers, "database") == "mysql":
        mysql = ["mysql", "-h", "127.0.0.1", "-u", "root", "-e"]
        subprocess.run([*mysql, f"CREATE DATABASE {name} CHARACTER SET utf8mb4"], check=True)
        return f"{MYSQL_URL}/{name}", lambda: subprocess.run(
            [*mysql, f"DROP DATABASE IF EXISTS {name}"], check=True
        )
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{POSTGRES_URL}/postgres", "-c"]
    subprocess.run([*psql, f"CREATE DATABASE {name}"], check=True)

    def drop():
        subprocess.run(
            [
                *psql,
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {name}"], check=True)

    return f"{POSTGRES_URL}/{name}", drop


def migrated(database_url):
    """Whether any migration ran on the database."""
    if database_url.startswith("sqlite:"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            return False
        with contextlib.closing(sqlite3.connect(path)) as connection:
            query = "SELECT count(*) FROM sqlite_master WHERE name = 'django_migrations'"
            return connection.execute(query).fetchone()[0] == 1
    if database_url.startswith("mysql:"):
        name = database_url.rsplit("/", 1)[1]
        query = (
            "SELECT count(*) FROM information_schema.tables"
            f" WHERE table_schema = '{name}' AND table_name = 'django_migrations'"
        )
        result = subprocess.run(
            ["mysql", "-h", "127.0.0.1", "-u", "root", "-N", "-e", query],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip() == "1"
    query = "SELECT to_regclass('django_migrations') IS NOT NULL"
    result = subprocess.run(
        ["psql", "-tA", database_url, "-c", query], capture_output=True, text=True, check=True
    )
    return result.stdout.strip() == "t"


def shell(platform, code):
    """The project's `manage.py shell -c`, in the platform's environment."""
    result = platform.run(f"python manage.py shell --verbosity 0 -c {shlex.quote(code)}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def task_results(platform):
    """Every task of the queue: [path, status, return value], sorted."""
    output = shell(
        platform,
        "import json; from django_tasks_db.models import DBTaskResult;"
        " print(json.dumps(sorted(DBTaskResult.objects.values_list("
        "'task_path', 'status', 'return_value'))))",
    )
    return json.loads(output)


# The page cache changes no Procfile line; run each line with the cache on, where web and
# release also carry its middleware and migrations, and check that every other answer
# set's Procfile is one of those run.
WITH_THE_CACHE = [c for c in COMBINATIONS if c.values[0].get("public_site_caching")]


def test_every_answer_sets_procfile_is_one_that_is_run(bakes):
    run = {(bakes.render(c.values[0]) / "Procfile").read_text() for c in WITH_THE_CACHE}
    for combination in COMBINATIONS:
        lines = (bakes.render(combination.values[0]) / "Procfile").read_text()
        assert lines in run, combination.id


@pytest.mark.parametrize("answers", WITH_THE_CACHE)
def test_every_procfile_line_runs_as_a_platform_runs_it(project, server_lock, tmp_path, answers):
    baked = project(**answers)
    lines = procfile(baked.path)
    slug = baked.path.name
    database_url, drop_database = fresh_database(answers, tmp_path)
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }
    platform = Platform(baked, tmp_path, production)
    # On SQLite web is manage.py serve: it migrates, then runs the worker or the clock
    # beside gunicorn, whose lines its log holds.
    sqlite = answer(answers, "database") == "sqlite"
    with server_lock(answer(answers, "database"), shared=True):
        try:
            # release: refused with the development settings, before it migrates...
            refused = platform.run(lines["release"], DEBUG="true")
            assert refused.returncode != 0, refused.stdout
            assert "security.W018" in refused.stderr, refused.stderr
            assert not migrated(database_url)
            # ...and in production checks the settings and brings the database up to date,
            # but on SQLite only web can: a platform's release step cannot see the volume.
            released = platform.run(lines["release"])
            assert released.returncode == 0, released.stdout + released.stderr
            up_to_date = platform.run("python manage.py migrate --check")
            assert (up_to_date.returncode == 0) == (not sqlite), up_to_date.stdout
            assert migrated(database_url) == (not sqlite)

            clock = answer(answers, "scheduler") == "clock"
            queue = answer(answers, "task_queue") == "database"
            keeper = "worker" if queue else "clock"  # with a queue, the worker keeps the clock
            host = "web" if sqlite else keeper  # the process whose log has the keeper's lines
            # libfaketime 0.9.10 fails every time.sleep() (EINVAL) in a process whose
            # monotonic clock it leaves alone, and faking that one hangs Python's waits:
            # serve's tree on SQLite sleeps (the worker between its looks, gunicorn's
            # arbiter), and so does the worker's poll on MySQL, so there the keeper is
            # only seen to start its clock; it fires under faketime on PostgreSQL and
            # for MySQL's lone clock, and the project's tests/schedule/test_clock.py and
            # tests/queue/test_serve.py have it fire on every database.
            mysql = answer(answers, "database") == "mysql"
            faked = clock and not sqlite and not (queue and mysql)
            if faked:
                # clock: the project's real schedule, on a faked time of day that reaches
                # its first job's time CLOCK_LEAD seconds from now.
                faketime = shutil.which("faketime")
                assert faketime, "the clock's check needs faketime (.ci/run installs it)"
                now = datetime.datetime.now(datetime.UTC)
                fire_at = datetime.datetime.combine(now.date(), FIRST_JOB_TIME, datetime.UTC)
                offset = (fire_at - now).total_seconds() - CLOCK_LEAD
                platform.start(
                    keeper,
                    lines[keeper],
                    prefix=[faketime, "-f", f"{offset:+.3f}"],
                    FAKETIME_DONT_FAKE_MONOTONIC="1",
                )
            elif clock and not sqlite:
                platform.start(keeper, lines[keeper])

            # web: gunicorn on PORT with WEB_CONCURRENCY workers, answering /healthz.
            port = free_port()
            healthz = f"http://127.0.0.1:{port}/healthz"
            web = platform.start(
                "web", lines["web"], PORT=str(port), WEB_CONCURRENCY=str(WEB_CONCURRENCY)
            )
            status, body = wait_for(
                lambda: (reply := get_json(healthz))[0] and reply,
                what="answer on /healthz",
                processes=platform.processes,
            )
            assert (status, body["status"]) == (200, "ok")
            if sqlite:
                up_to_date = platform.run("python manage.py migrate --check")
                assert up_to_date.returncode == 0, up_to_date.stdout + up_to_date.stderr
            gunicorns = [pid for pid in descendants(web.pid) if b"gunicorn" in command_line(pid)]
            assert len(gunicorns) == 1 + WEB_CONCURRENCY, "a master and WEB_CONCURRENCY workers"

            queued = 0
            if queue:
                shell(
                    platform,
                    f"from {slug}.queue.tasks import url_check; url_check.enqueue(url={healthz!r})",
                )
                queued += 1
                # It waits unless a worker runs already: serve's, or one that keeps the
                # clock; a clock started first may have queued its job.
                if not clock and not sqlite:
                    assert get_json(healthz)[1]["tasks_ready"] == queued

            if faked:
                fired = wait_for(
                    lambda: re.search(
                        rf"{FIRST_JOB} (ran|enqueued) for {re.escape(fire_at.isoformat())}",
                        platform.processes[keeper].log.read_text(),
                    ),
                    what=f"{FIRST_JOB} at {fire_at}",
                    processes=platform.processes,
                    timeout=CLOCK_LEAD + 30,
                )
                assert "clock started" in platform.processes[keeper].log.read_text()
                assert fired.group(1) == ("enqueued" if queue else "ran")
                if queue:
                    assert "ran for" not in platform.processes[keeper].log.read_text()
                else:
                    platform.stop("clock")

            if clock and not faked:
                wait_for(
                    lambda: "clock started" in platform.processes[host].log.read_text(),
                    what=f"the {keeper}'s clock",
                    processes=platform.processes,
                )

            if queue:
                # worker: runs what waits, each task to success.
                if not sqlite and "worker" not in platform.processes:
                    platform.start("worker", lines["worker"])
                wait_for(
                    lambda: get_json(healthz)[1]["tasks_ready"] == 0,
                    what="empty queue",
                    processes=platform.processes,
                )
                expected = [[f"{slug}.queue.tasks.url_check", "SUCCESSFUL", 200]]
                scheduled = f"{slug}.schedule.tasks.run_scheduled_job"
                if faked:
                    job = [scheduled, "SUCCESSFUL", None]
                    expected.append(job)
                # An unfaked clock may meet a real */10 job while the test runs: its
                # tasks are not the ones this test queued.
                ignored = {scheduled} if clock and not faked else set()
                wait_for(
                    lambda: (
                        [r for r in task_results(platform) if r[0] not in ignored]
                        == sorted(expected)
                    ),
                    what=f"tasks run to success: {expected}",
                    processes=platform.processes,
                )
                if not sqlite:
                    platform.stop("worker")

            platform.stop("web")
        finally:
            platform.stop_all()
            drop_database()
