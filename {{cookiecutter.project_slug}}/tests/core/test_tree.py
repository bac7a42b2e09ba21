"""`manage.py serve`'s tree of processes: a stop, a death, a kill{{ ", a frozen worker" if cookiecutter.task_queue == "database" else "" }}."""

{% if cookiecutter.task_queue == "database" -%}
import json
{% endif -%}
import os
import signal

import pytest

from ..support import {{ "alive, " if cookiecutter.task_queue == "database" else "" }}descendants, wait_for

PARTS = [
    "web",
{%- if cookiecutter.task_queue == "database" %}
    "worker",
{%- endif %}
{%- if cookiecutter.scheduler == "clock" and cookiecutter.task_queue == "none" %}
    "clock",
{%- endif %}
]


{%- if cookiecutter.database == "sqlite" %}


@pytest.fixture
def database(tmp_path):
    """A database file that no migration has touched yet: serve migrates it first."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
{%- else %}


@pytest.fixture
def database(live_database_url):
    return {"DATABASE_URL": live_database_url}
{%- endif %}


def test_a_stop_asked_for_while_the_parts_start_is_a_clean_stop(serve, database):
    server = serve(env=database, ready=False)
    # Each part is then still importing Django: SIGTERM's default action ends it, before
    # it sets a handler of its own, and that is the stop that was asked for.
    wait_for(
        lambda: all(f"system | {part} started" in server.output() for part in PARTS),
        timeout=90,
        what="every part to start",
    )
    server.tree = descendants(server.process.pid)
    assert server.stop(timeout=30) == 0, server.output()
    wait_for(lambda: not server.left(), timeout=10, what="the whole tree to end")


@pytest.mark.parametrize("part", PARTS)
def test_a_part_that_dies_takes_the_whole_tree_down(serve, database, part):
    server = serve(env=database)
    os.kill(server.pid_of(part), signal.SIGKILL)
    # Well below the grace period (30 s) that a stop waits for, and than gunicorn's workers
    # take to notice that their gunicorn is gone (15 s); well above a stall.
    assert server.process.wait(timeout=10) != 0
    wait_for(lambda: not server.left(), timeout=15, what="the whole tree to end")


def test_no_part_outlives_a_killed_serve(serve, database):
    server = serve(env=database)
    assert len(server.tree) >= 2 * len(PARTS)  # a relay and a part each, at least
    server.stop(signal.SIGKILL, timeout=5)
    wait_for(lambda: not server.left(), timeout=20, what="every part to end with serve")
{%- if cookiecutter.task_queue == "database" %}


def health(server):
    """/healthz's status code, and what it says of the worker."""
    response = server.get("/healthz")
    return response.status, json.loads(response.body)["worker"]


def test_a_frozen_worker_makes_healthz_answer_503_until_it_thaws(serve, database):
    # The worker is alive for dead_after seconds after its last beat (every dead_after / 6).
    dead_after = 3
    server = serve(env={**database, "TASK_WORKER_DEAD_AFTER": str(dead_after)})
    wait_for(lambda: health(server) == (200, "up"), timeout=30, what="the worker's first beat")
    worker = server.pid_of("worker")
    os.kill(worker, signal.SIGSTOP)  # alive to honcho, but its heartbeat stops
    try:
        # dead_after from its last beat, and room for a busy machine. Without the tree's
        # variables the web would answer 200 for as long as the worker stays frozen.
        wait_for(
            lambda: health(server) == (503, "down"),
            timeout=dead_after + 10,
            what="/healthz to answer 503",
        )
        assert all(map(alive, server.tree))  # nothing ended: only /healthz can tell
    finally:
        os.kill(worker, signal.SIGCONT)
    wait_for(lambda: health(server) == (200, "up"), timeout=30, what="the worker to beat again")
    assert server.stop(timeout=30) == 0
    wait_for(lambda: not server.left(), timeout=10, what="the whole tree to end")
{%- endif %}
