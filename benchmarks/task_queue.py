"""The database task queue (task_queue=database) against RQ with Redis, side by side.

Bakes a project, builds its environment as the template's tests do (plus RQ and redis
from the `bench` group), then runs this same file inside that environment once per
queue and prints one table with ratios against RQ's non-forking worker. Everything
talks to 127.0.0.1 only: PostgreSQL on 5432, Redis on 6379.

    uv run python benchmarks/task_queue.py [--tasks 2000] [--idle-seconds 30] [--rounds 3]

Measured for each queue:
- enqueue: one enqueue call as a view makes it (autocommit: the INSERT and its commit,
  or one Redis round trip), median of 300;
- throughput: N trivial tasks (operator.add) enqueued at once in front of 1 and 2
  workers already idle, counted from the first task's start to the last one's end;
- pickup: the delay between enqueue and start for an idle worker, 30 tasks a random
  0.05-0.25 s apart;
- idle CPU: user + system time of one idle worker over a window, from /proc/<pid>/stat.
"""

import argparse
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUES = ("sqlite", "postgresql", "rq")
PICKUPS = 30


# The orchestrator: runs in the template's own environment.


def bake(output_dir):
    from cookiecutter.main import cookiecutter

    answers = {"project_name": "Bench Site", "database": "postgresql", "task_queue": "database"}
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=output_dir, extra_context=answers)
    )


def bench_requirements():
    pyproject = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text())
    return pyproject["dependency-groups"]["bench"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="queues take turns; medians")
    options = parser.parse_args()
    sys.path.insert(0, str(TEMPLATE_DIR))
    from tests.conftest import LEAKY_VARIABLES, project_venv

    venvs = TEMPLATE_DIR / ".pytest_cache" / "d" / "fewparts-venvs"
    venvs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    rounds = {queue: [] for queue in QUEUES}
    with tempfile.TemporaryDirectory() as tmp:
        project = bake(tmp)
        python = project_venv(project, venvs=venvs, extra=bench_requirements()) / "bin" / "python"
        for turn in range(options.rounds):
            for queue in QUEUES:
                print(f"round {turn + 1}/{options.rounds}: {queue}", file=sys.stderr)
                command = [python, __file__, "--measure", queue]
                command += [
                    "--tasks",
                    str(options.tasks),
                    "--idle-seconds",
                    str(options.idle_seconds),
                ]
                measured = subprocess.run(
                    command, cwd=project, env=env, capture_output=True, text=True, check=False
                )
                if measured.returncode != 0:
                    sys.exit(f"measuring {queue} failed:\n{measured.stdout}\n{measured.stderr}")
                rounds[queue].append(json.loads(measured.stdout.splitlines()[-1]))
    medians = {
        queue: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for queue, runs in rounds.items()
    }
    report(medians, tasks=options.tasks, rounds=options.rounds)


ROWS = [
    ("enqueue, median (us)", "enqueue_us", "{:.0f}"),
    ("{tasks} tasks, 1 worker (tasks/s)", "throughput_1", "{:.0f}"),
    ("{tasks} tasks, 2 workers (tasks/s)", "throughput_2", "{:.0f}"),
    ("pickup of an idle worker, median (ms)", "pickup_median_ms", "{:.1f}"),
    ("pickup of an idle worker, p90 (ms)", "pickup_p90_ms", "{:.1f}"),
    ("idle worker CPU (% of a core)", "idle_cpu_percent", "{:.3f}"),
]


def row(cells, widths):
    """The label left-aligned, the figures right-aligned."""
    label, *figures = (
        f"{c:{w}}" if i == 0 else f"{c:>{w}}"
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return " ".join([label, *figures])


def report(figures, *, tasks, rounds):
    # Compared as printed: /proc counts CPU in ticks, so 0.2 can come out as 0.2000001.
    figures = {queue: {k: round(v, 3) for k, v in f.items()} for queue, f in figures.items()}
    sqlite, postgresql, rq = (figures[queue] for queue in QUEUES)
    print(f"\nMedians of {rounds} rounds; ratios are against RQ + Redis in the same run.\n")
    header = ["", "SQLite", "PostgreSQL", "RQ+Redis", "SQLite/RQ", "PG/RQ"]
    widths = [40, 9, 11, 9, 10, 7]
    print(row(header, widths))
    for label, key, number in ROWS:
        cells = [label.format(tasks=tasks)]
        cells += [number.format(figures[queue][key]) for queue in QUEUES]
        cells += [f"{figures[q][key] / rq[key]:.2f}" if rq[key] else "-" for q in QUEUES[:2]]
        print(row(cells, widths))
    targets = [
        (
            "PostgreSQL, 2 workers >= RQ, 2 workers",
            postgresql["throughput_2"] >= rq["throughput_2"],
        ),
        ("PostgreSQL pickup median <= 15 ms", postgresql["pickup_median_ms"] <= 15),
        ("PostgreSQL idle CPU <= 0.2%", postgresql["idle_cpu_percent"] <= 0.2),
        ("SQLite pickup median <= 50 ms", sqlite["pickup_median_ms"] <= 50),
        ("SQLite idle CPU <= 0.5%", sqlite["idle_cpu_percent"] <= 0.5),
    ]
    print()
    for target, met in targets:
        print(f"{'met   ' if met else 'MISSED'} {target}")


# The measurements: this file again, run inside the baked project's environment.


def cpu_seconds(pid):
    """User plus system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu_percent(pid, seconds):
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds * 100


def wait_until(condition, *, timeout=300, pause=0.005):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the queue did not get there in time")
        time.sleep(pause)


def median_us(call, *, count=300, warmup=20):
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1e6


def summary(*, enqueue_us, throughput, pickups, idle_cpu):
    pickups_ms = sorted(seconds * 1000 for seconds in pickups)
    return {
        "enqueue_us": enqueue_us,
        "throughput_1": throughput[1],
        "throughput_2": throughput[2],
        "pickup_median_ms": statistics.median(pickups_ms),
        "pickup_p90_ms": pickups_ms[int(len(pickups_ms) * 0.9)],
        "idle_cpu_percent": idle_cpu,
    }


class DatabaseQueue:
    """The project's own queue: `manage.py worker` processes on a fresh database."""

    def __init__(self, kind, directory):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{directory / 'bench.sqlite3'}"
        else:
            self.name = f"fewparts_bench_{uuid.uuid4().hex[:12]}"
            self.admin("CREATE DATABASE {}")
            self.url = (
                f"postgres://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{self.name}"
            )
        os.environ.update(
            DATABASE_URL=self.url, DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50)
        )
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django_tasks_db.models import DBTaskResult
        from tests.queue.tasks import add

        self.results = DBTaskResult.objects
        self.add = add

    def admin(self, statement):
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **POSTGRES) as connection:
            connection.execute(statement.format(self.name))

    def close(self):
        from django.db import connections

        connections.close_all()
        if self.kind == "postgresql":
            self.admin("DROP DATABASE {} WITH (FORCE)")

    def start_workers(self, count):
        from bench_site.queue.models import Worker

        workers = [
            subprocess.Popen([sys.executable, "manage.py", "worker", "--no-startup-delay", "-v0"])
            for _ in range(count)
        ]
        pids = {worker.pid for worker in workers}
        wait_until(lambda: set(Worker.objects.values_list("pid", flat=True)) >= pids)
        return workers

    def enqueue_us(self):
        figure = median_us(lambda: self.add.enqueue(1, 2))
        self.results.all().delete()
        return figure

    def throughput(self, *, workers, tasks):
        from django.db import transaction
        from django.db.models import Max, Min

        running = self.start_workers(workers)
        with transaction.atomic():
            for n in range(tasks):
                self.add.enqueue(n, 1)
        wait_until(lambda: self.results.successful().count() == tasks, pause=0.05)
        span = self.results.aggregate(first=Min("started_at"), last=Max("finished_at"))
        stop(running)
        self.results.all().delete()
        return tasks / (span["last"] - span["first"]).total_seconds()

    def pickups_and_idle_cpu(self, idle_seconds):
        (worker,) = self.start_workers(1)
        time.sleep(1)  # past the start-up work
        pickups = []
        for n in range(PICKUPS):
            time.sleep(random.uniform(0.05, 0.25))
            result = self.add.enqueue(n, 1)
            wait_until(lambda result=result: result.refresh() or result.is_finished)
            pickups.append((result.started_at - result.enqueued_at).total_seconds())
        time.sleep(1)
        idle = idle_cpu_percent(worker.pid, idle_seconds)
        stop([worker])
        return pickups, idle


class RedisQueue:
    """RQ with its non-forking worker (SimpleWorker) on a queue of its own."""

    def __init__(self):
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(REDIS_URL)
        self.queue = Queue(f"fewparts-bench-{uuid.uuid4().hex[:12]}", connection=self.redis)

    def close(self):
        self.queue.delete(delete_jobs=True)

    def start_workers(self, count):
        from rq import Worker

        command = [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--url",
            REDIS_URL,
            "--quiet",
            self.queue.name,
        ]
        workers = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(count)]
        wait_until(lambda: len(Worker.all(queue=self.queue)) >= count)
        return workers

    def enqueue_us(self):
        figure = median_us(lambda: self.queue.enqueue("operator.add", 1, 2))
        self.queue.empty()
        return figure

    def throughput(self, *, workers, tasks):
        from rq import Queue
        from rq.job import Job

        running = self.start_workers(workers)
        finished_before = self.queue.finished_job_registry.count
        jobs = [Queue.prepare_data("operator.add", (n, 1), result_ttl=600) for n in range(tasks)]
        with self.redis.pipeline() as pipe:
            enqueued = self.queue.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()
        ids = [job.id for job in enqueued]
        finished = self.queue.finished_job_registry
        wait_until(lambda: finished.count == finished_before + tasks, pause=0.05)
        fetched = Job.fetch_many(ids, connection=self.redis)
        span = max(job.ended_at for job in fetched) - min(job.started_at for job in fetched)
        stop(running)  # the results expire with their result_ttl
        return tasks / span.total_seconds()

    def pickups_and_idle_cpu(self, idle_seconds):
        from rq.job import JobStatus

        (worker,) = self.start_workers(1)
        time.sleep(1)
        pickups = []
        for n in range(PICKUPS):
            time.sleep(random.uniform(0.05, 0.25))
            job = self.queue.enqueue("operator.add", n, 1)
            wait_until(lambda job=job: job.get_status(refresh=True) == JobStatus.FINISHED)
            job.refresh()
            pickups.append((job.started_at - job.enqueued_at).total_seconds())
        time.sleep(1)
        idle = idle_cpu_percent(worker.pid, idle_seconds)
        stop([worker])
        return pickups, idle


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def measure(kind, *, tasks, idle_seconds):
    sys.path.insert(0, os.getcwd())
    with tempfile.TemporaryDirectory() as tmp:
        queue = RedisQueue() if kind == "rq" else DatabaseQueue(kind, Path(tmp))
        try:
            enqueue_us = queue.enqueue_us()
            throughput = {n: queue.throughput(workers=n, tasks=tasks) for n in (1, 2)}
            pickups, idle_cpu = queue.pickups_and_idle_cpu(idle_seconds)
        finally:
            queue.close()
    figures = summary(
        enqueue_us=enqueue_us, throughput=throughput, pickups=pickups, idle_cpu=idle_cpu
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    if "--measure" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--measure", choices=QUEUES)
        parser.add_argument("--tasks", type=int)
        parser.add_argument("--idle-seconds", type=float)
        arguments = parser.parse_args()
        measure(arguments.measure, tasks=arguments.tasks, idle_seconds=arguments.idle_seconds)
    else:
        main()
