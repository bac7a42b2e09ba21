{%- set tree = cookiecutter.task_queue == "database" or cookiecutter.scheduler == "clock" -%}
{%- set server = tree and cookiecutter.database != "sqlite" -%}
"""What the tests share: the project's directory, waiting, free ports, gunicorn and `manage.py
serve` in processes of their own, with every process of serve's tree kept in view{{ "; ending
the database server's other sessions, and restarting it" if server else "" }}."""

import contextlib
import http.client
import os
{%- if server %}
import shlex
{%- endif %}
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
{%- if server %}

from django.db import {{ "OperationalError, " if cookiecutter.database == "mysql" else "" }}connection, connections
{%- endif %}

PROJECT_DIR = Path(__file__).resolve().parent.parent


def wait_for(condition, *, timeout=30, what="the condition"):
    """Check condition every 20 ms until it holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid):
    """The process exists and is no zombie (a zombie runs nothing and holds nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid):
    """Every process below pid, from the children that Linux lists for each thread."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


class Serve:
    """`manage.py serve` on a port of its own; its output goes to log."""

    def __init__(self, *, log, env, args=()):
        self.port = free_port()
        self.log = log
        # DEBUG set, as .env sets it in development: a fresh clone has no .env, and the web
        # process refuses to serve while DEBUG is set nowhere (config/wsgi.py).
        env = {"DEBUG": "true", **os.environ, **env, "PORT": str(self.port), "WEB_CONCURRENCY": "1"}
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", *args],
                cwd=PROJECT_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.tree = []

    def ready(self):
        """Wait until the web answers, then note the processes of the tree."""
        wait_for(self.answers, timeout=90, what="serve to answer")
{%- if tree %}
        # honcho starts each part from a relay process: the web answering means the relays
        # have all started their parts, which may still be starting children of their own.
        time.sleep(1)
{%- endif %}
        self.tree = descendants(self.process.pid)

    def answers(self):
        assert self.process.poll() is None, f"serve exited:\n{self.output()}"
        try:
            return self.get("/healthz").status == 200
        except OSError:
            return False

    def get(self, path, **headers):
        return http_get(self.port, path, **headers)

    def output(self):
        return self.log.read_text()

    def pid_of(self, name):
        """The pid honcho printed for the part name."""
        for line in self.output().splitlines():
            if f"system | {name} started (pid=" in line:
                return int(line.rsplit("=", 1)[1].rstrip(")"))
        raise AssertionError(f"no {name} in:\n{self.output()}")

    def left(self):
        """The processes of the tree, serve included, that still run."""
        return [pid for pid in [self.process.pid, *self.tree] if alive(pid)]

    def stop(self, signum=signal.SIGTERM, *, timeout):
        """Send signum to serve; return its exit status, within timeout seconds."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def end(self):
        """SIGKILL whatever of the tree is left, so that a failed test leaves nothing."""
        for pid in self.left():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


def serve_fixture(tmp_path):
    """Start serve with extra environment; every tree goes at the end of the test."""
    started = []

    def start(*, env, args=(), ready=True):
        server = Serve(log=tmp_path / f"serve-{len(started)}.log", env=env, args=args)
        started.append(server)
        if ready:
            server.ready()
        return server

    yield start
    for server in started:
        server.end()
        print(f"--- serve {server.process.pid}:\n{server.output()}")  # shown when a test fails


def accepts(port):
    """Something listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def http_get(port, path, **headers):
    """GET path from 127.0.0.1:port as a browser of localhost; the response, body read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "localhost", **headers})
        response = connection.getresponse()
        response.body = response.read()  # while the connection is open
        return response
    finally:
        connection.close()


class Gunicorn:
    """gunicorn config.wsgi, as the web process runs it, on a port of its own; its stderr
    goes to log.

    As a context manager it answers once the with block starts; refusal() instead
    expects it to stop by itself.
    """

    def __init__(self, *, log, env, cwd=PROJECT_DIR, workers=3):
        self.port = free_port()
        self.log = log
        bind = f"127.0.0.1:{self.port}"
        with log.open("w") as output:  # a file, not a pipe, which could fill and stall it
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", str(workers), "-b", bind],
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=output,
            )

    def __enter__(self):
        try:
            wait_for(self.accepts, timeout=30, what="gunicorn to accept connections")
        except BaseException:
            self.end()
            raise
        return self

    def __exit__(self, *exc_info):
        self.end()

    def accepts(self):
        assert self.process.poll() is None, f"gunicorn exited:\n{self.output()}"
        return accepts(self.port)

    def get(self, path, **headers):
        return http_get(self.port, path, **headers)

    def output(self):
        return self.log.read_text()

    def refusal(self, *, timeout=60):
        """Wait for gunicorn to stop by itself; its exit status."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.end()

    def end(self):
        """Stop gunicorn if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)
{%- if server %}


{% if cookiecutter.database == "mysql" -%}
# A command that restarts the tests' MySQL or MariaDB server, such as "systemctl
# restart mariadb". Without one, the tests end the other sessions on the test
# database instead, which is what a restart does to them.
RESTART_COMMAND = os.environ.get("MYSQL_RESTART_COMMAND", "")

UNKNOWN_THREAD = 1094  # KILL's error for a session that has ended since it was listed
{%- else -%}
# A command that restarts the tests' PostgreSQL server, such as "pg_ctlcluster
# --skip-systemctl-redirect 17 main restart". Without one, the tests end the other
# sessions on the test database instead, which is what a restart does to them.
RESTART_COMMAND = os.environ.get("POSTGRES_RESTART_COMMAND", "")
{%- endif %}


def restart_or_end_other_sessions():
    """Restart the server if RESTART_COMMAND names how; else end the other sessions."""
    if RESTART_COMMAND:
        subprocess.run(shlex.split(RESTART_COMMAND), check=True)
        connections.close_all()
    else:
        assert end_other_sessions() > 0, "no other session held a connection to lose"


def end_other_sessions():
    """End every other session on the test database; return how many it ended."""
    with connection.cursor() as cursor:
{%- if cookiecutter.database == "mysql" %}
        cursor.execute(
            "SELECT id FROM information_schema.processlist"
            " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        )
        ended = 0
        for (session,) in cursor.fetchall():
            try:
                cursor.execute("KILL CONNECTION %s", [session])
            except OperationalError as error:
                if error.args[0] != UNKNOWN_THREAD:
                    raise
            else:
                ended += 1
        return ended
{%- else %}
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
{%- endif %}
{%- endif %}
