"""The database task queue (task_queue=database) against RQ with Redis, side by side.

Bakes a project, builds its environment as the template's tests do (plus RQ and redis
from the `bench` group), then runs this same file inside that environment once per
queue and prints one table with ratios against RQ's non-forking worker. Everything
talks to 127.0.0.1 only: PostgreSQL on 5432, MariaDB on 3306 (root, no password), Redis
on 6379. The MySQL queue runs in a project baked with database=mysql, the others in one
baked with database=postgresql.

    uv run python benchmarks/task_queue.py [--tasks 2000] [--idle-seconds 60] [--idle-windows 3]
        [--rounds 3] [--healthz-rows 5000000] [--queues sqlite,postgresql,mysql,rq]

Measured for each queue:
- enqueue: one enqueue call as a view makes it (autocommit: the INSERT and its commit,
  or one Redis round trip), median of 300;
- throughput: N trivial tasks (operator.add) enqueued at once in front of 1 and 2
  workers already idle, counted from the first task's start to the last one's end;
- pickup: the delay between enqueue and start for an idle worker, 30 tasks a random
  0.05-0.25 s apart;
- idle CPU: one idle worker, 10 s after its last task, over --idle-windows windows of
  --idle-seconds: nanoseconds on CPU of every thread from /proc/<pid>/task/*/schedstat
  (not /proc/<pid>/stat's 10 ms ticks), min/median/max; on PostgreSQL, the server
  backends of the worker's connections beside it, measured the same way; on MariaDB,
  the server threads of its connections (information_schema.PROCESSLIST's TID);
- /healthz: the queue's figures (apps.get_app_config("queue").health()), median of 50,
  with 5 task rows and with --healthz-rows (mostly finished, 1% ready).

Every figure is printed as min/median/max over the rounds, ratios too.
"""

import argparse
import contextlib
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
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root"}
REDIS_URL = "redis://127.0.0.1:6379/0"
QUEUES = ("sqlite", "postgresql", "mysql", "rq")
SERVERS = ("postgresql", "mysql")  # the queues whose worker's server side is measured too
PICKUPS = 30


# The orchestrator: runs in the template's own environment.


def bake(output_dir, database):
    from cookiecutter.main import cookiecutter

    answers = {"project_name": "Bench Site", "database": database, "task_queue": "database"}
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=output_dir, extra_context=answers)
    )


def bench_requirements():
    pyproject = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text())
    return pyproject["dependency-groups"]["bench"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--idle-windows", type=int, default=3)
    parser.add_argument("--healthz-rows", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="queues take turns; at least 3")
    parser.add_argument("--queues", default=",".join(QUEUES), help="a comma list; rq always")
    options = parser.parse_args()
    queues = [q for q in QUEUES if q in options.queues.split(",") or q == "rq"]
    sys.path.insert(0, str(TEMPLATE_DIR))
    from tests.conftest import LEAKY_VARIABLES

    env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    rounds = {queue: [] for queue in queues}
    with tempfile.TemporaryDirectory() as tmp:
        projects = {}
        for database in {"mysql" if q == "mysql" else "postgresql" for q in queues}:
            project = bake(str(Path(tmp) / database), database)
            # The project's pinned set as its README installs it, plus RQ and redis.
            subprocess.run(["uv", "sync", "--quiet"], cwd=project, env=env, check=True)
            python = project / ".venv" / "bin" / "python"
            install = ["uv", "pip", "install", "--quiet", "--python", str(python)]
            subprocess.run([*install, *bench_requirements()], cwd=project, env=env, check=True)
            projects[database] = project
        for turn in range(options.rounds):
            for queue in queues:
                project = projects["mysql" if queue == "mysql" else "postgresql"]
                python = project / ".venv" / "bin" / "python"
                print(f"round {turn + 1}/{options.rounds}: {queue}", file=sys.stderr)
                command = [python, __file__, "--measure", queue]
                command += [
                    "--tasks",
                    str(options.tasks),
                    "--idle-seconds",
                    str(options.idle_seconds),
                ]
                command += ["--idle-windows", str(options.idle_windows)]
                command += ["--healthz-rows", str(options.healthz_rows)]
                measured = subprocess.run(
                    command, cwd=project, env=env, capture_output=True, text=True, check=False
                )
                if measured.returncode != 0:
                    sys.exit(f"measuring {queue} failed:\n{measured.stdout}\n{measured.stderr}")
                rounds[queue].append(json.loads(measured.stdout.splitlines()[-1]))
    report(rounds, tasks=options.tasks, rows=options.healthz_rows)


ROWS = [
    ("enqueue, median (us)", "enqueue_us", "{:.0f}"),
    ("{tasks} tasks, 1 worker (tasks/s)", "throughput_1", "{:.0f}"),
    ("{tasks} tasks, 2 workers (tasks/s)", "throughput_2", "{:.0f}"),
    ("pickup of an idle worker, median (ms)", "pickup_median_ms", "{:.1f}"),
    ("pickup of an idle worker, p90 (ms)", "pickup_p90_ms", "{:.1f}"),
    ("idle worker CPU, median window (% of a core)", "idle_cpu_percent", "{:.3f}"),
    ("idle worker CPU, lowest window (%)", "idle_cpu_min", "{:.3f}"),
    ("idle worker CPU, highest window (%)", "idle_cpu_max", "{:.3f}"),
    ("its server backends' CPU, median window (%)", "idle_backend_cpu_percent", "{:.3f}"),
    ("/healthz queue figures, 5 rows (us)", "healthz_small_us", "{:.0f}"),
    ("/healthz queue figures, {rows} rows (us)", "healthz_large_us", "{:.0f}"),
]


def row(cells, widths):
    """The label left-aligned, the figures right-aligned."""
    label, *figures = (
        f"{c:{w}}" if i == 0 else f"{c:>{w}}"
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return " ".join([label, *figures])


def spread(values, number):
    """min/median/max of the rounds, as printed."""
    values = sorted(values)
    return "/".join(number.format(v) for v in (values[0], statistics.median(values), values[-1]))


NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL", "rq": "RQ+Redis"}
SHORT = {"sqlite": "SQLite", "postgresql": "PG", "mysql": "MySQL"}


def report(rounds, *, tasks, rows):
    count = len(rounds["rq"])
    queues = list(rounds)
    ours = [queue for queue in queues if queue != "rq"]
    medians = {
        queue: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for queue, runs in rounds.items()
    }
    # Compared as printed, so that a target reads the same as its figure.
    figures = {queue: {k: round(v, 3) for k, v in f.items()} for queue, f in medians.items()}
    print(f"\nmin/median/max of {count} rounds; ratios against RQ + Redis in the same round.\n")
    header = ["", *(NAMES[q] for q in queues), *(f"{SHORT[q]}/RQ" for q in ours)]
    widths = [46] + [20] * len(queues) + [17] * len(ours)
    print(row(header, widths))
    for label, key, number in ROWS:
        cells = [label.format(tasks=tasks, rows=f"{rows:,}")]
        cells += [spread([r.get(key, 0) for r in rounds[q]], number) for q in queues]
        for queue in ours:
            ratios = [
                ours[key] / theirs[key]
                for ours, theirs in zip(rounds[queue], rounds["rq"], strict=True)
                if theirs.get(key)
            ]
            cells.append(spread(ratios, "{:.2f}") if ratios else "-")
        print(row(cells, widths))
    rq = figures["rq"]
    targets = {
        "postgresql": [
            ("PostgreSQL, 2 workers >= RQ, 2 workers", "throughput_2", rq["throughput_2"], ">="),
            ("PostgreSQL pickup median <= 15 ms", "pickup_median_ms", 15, "<="),
            ("PostgreSQL idle CPU <= 0.2%", "idle_cpu_percent", 0.2, "<="),
        ],
        "mysql": [
            ("MySQL, 2 workers >= RQ, 2 workers", "throughput_2", rq["throughput_2"], ">="),
            ("MySQL pickup median <= 100 ms", "pickup_median_ms", 100, "<="),
            ("MySQL idle CPU <= 0.5%", "idle_cpu_percent", 0.5, "<="),
        ],
        "sqlite": [
            ("SQLite pickup median <= 50 ms", "pickup_median_ms", 50, "<="),
            ("SQLite idle CPU <= 0.5%", "idle_cpu_percent", 0.5, "<="),
        ],
    }
    print("\nTargets, on the medians of the rounds:")
    for queue in ours:
        for target, key, bound, relation in targets[queue]:
            value = figures[queue][key]
            met = value >= bound if relation == ">=" else value <= bound
            print(f"{'met   ' if met else 'MISSED'} {target}")


# The measurements: this file again, run inside the baked project's environment.


def cpu_nanoseconds(pids):
    """Nanoseconds on CPU so far of every thread of these processes, from schedstat.

    A "pid/tid" stands for that one thread of the process.
    """
    total = 0
    for pid in pids:
        pid, _, tid = str(pid).partition("/")
        tasks = Path(f"/proc/{pid}/task")
        threads = [tasks / tid] if tid else list(tasks.iterdir())
        for thread in threads:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
                total += int((thread / "schedstat").read_text().split()[0])
    return total


def idle_cpu_percent(pids, seconds):
    """Percent of one core that these processes used over the next `seconds`."""
    before, start = cpu_nanoseconds(pids), time.monotonic()
    time.sleep(seconds)
    return (cpu_nanoseconds(pids) - before) / (time.monotonic() - start) / 1e9 * 100


def idle_windows(worker_pid, *, seconds, windows, backends=list):
    """The worker's (and its server backends') CPU over several windows, once settled."""
    time.sleep(10)  # past the start-up and the last task's aftermath
    worker, server = [], []
    for _ in range(windows):
        pids = backends()
        start = cpu_nanoseconds(pids), time.monotonic()
        worker.append(idle_cpu_percent([worker_pid], seconds))
        spent = cpu_nanoseconds(pids) - start[0]
        server.append(spent / (time.monotonic() - start[1]) / 1e9 * 100)
    return worker, server


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


def summary(*, enqueue_us, throughput, pickups, idle_cpu, backend_cpu, healthz):
    pickups_ms = sorted(seconds * 1000 for seconds in pickups)
    return {
        "idle_cpu_min": min(idle_cpu),
        "idle_cpu_max": max(idle_cpu),
        "idle_backend_cpu_percent": statistics.median(backend_cpu) if backend_cpu else 0,
        "healthz_small_us": healthz[0],
        "healthz_large_us": healthz[1],
        "enqueue_us": enqueue_us,
        "throughput_1": throughput[1],
        "throughput_2": throughput[2],
        "pickup_median_ms": statistics.median(pickups_ms),
        "pickup_p90_ms": pickups_ms[int(len(pickups_ms) * 0.9)],
        "idle_cpu_percent": statistics.median(idle_cpu),
    }


class DatabaseQueue:
    """The project's own queue: `manage.py worker` processes on a fresh database."""

    def __init__(self, kind, directory):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{directory / 'bench.sqlite3'}"
        elif kind == "mysql":
            self.name = f"fewparts_bench_{uuid.uuid4().hex[:12]}"
            self.admin("CREATE DATABASE {} CHARACTER SET utf8mb4")
            self.url = f"mysql://{MYSQL['user']}@{MYSQL['host']}:{MYSQL['port']}/{self.name}"
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
        if self.kind == "mysql":
            import MySQLdb

            connection = MySQLdb.connect(**MYSQL)
            try:
                connection.cursor().execute(statement.format(self.name))
            finally:
                connection.close()
            return
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **POSTGRES) as connection:
            connection.execute(statement.format(self.name))

    def close(self):
        from django.db import connections

        connections.close_all()
        if self.kind == "postgresql":
            self.admin("DROP DATABASE {} WITH (FORCE)")
        elif self.kind == "mysql":
            self.admin("DROP DATABASE {}")

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

    def pickups_and_idle_cpu(self, idle_seconds, windows):
        (worker,) = self.start_workers(1)
        time.sleep(1)  # past the start-up work
        pickups = []
        for n in range(PICKUPS):
            time.sleep(random.uniform(0.05, 0.25))
            result = self.add.enqueue(n, 1)
            wait_until(lambda result=result: result.refresh() or result.is_finished)
            pickups.append((result.started_at - result.enqueued_at).total_seconds())
        backends = self.backend_pids if self.kind in SERVERS else list
        idle, server = idle_windows(
            worker.pid, seconds=idle_seconds, windows=windows, backends=backends
        )
        stop([worker])
        return pickups, idle, server if self.kind in SERVERS else []

    def backend_pids(self):
        """The server processes of every connection to the bench database but this one.

        On MariaDB, one process with a thread per connection: "pid/tid" of those threads.
        """
        from django.db import connection

        if self.kind == "mysql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@pid_file")  # this server's, among any others
                server = Path(cursor.fetchone()[0]).read_text().strip()
                cursor.execute(
                    "SELECT tid FROM information_schema.processlist"
                    " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
                )
                return [f"{server}/{tid}" for (tid,) in cursor.fetchall()]

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    def healthz_us(self, rows):
        """The queue's /healthz figures with 5 task rows, then with `rows` (1% ready)."""
        from django.apps import apps

        health = apps.get_app_config("queue").health
        for _ in range(5):
            self.add.enqueue(1, 2)
        small = median_us(health, count=50, warmup=5)
        self.results.all().delete()
        self.insert_rows(rows)
        large = median_us(health, count=50, warmup=5)
        self.results.all().delete()
        return small, large

    def insert_rows(self, rows):
        """`rows` task rows in one statement: one in a hundred READY, the rest SUCCESSFUL."""
        from django.db import connection

        table = self.results.model._meta.db_table
        if self.kind == "postgresql":
            numbers = f"generate_series(1, {rows}) AS n"
            uid, now, later = "gen_random_uuid()", "now()", "'9999-01-01Z'"
        elif self.kind == "mysql":
            numbers = (
                f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})"
                " SELECT n FROM s) AS numbers"
            )
            uid, now, later = "replace(uuid(), '-', '')", "now(6)", "'9999-01-01 00:00:00'"
        else:
            numbers = (
                f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})"
                " SELECT n FROM s)"
            )
            uid, now, later = (
                "lower(hex(randomblob(16)))",
                "datetime('now')",
                "'9999-01-01 00:00:00'",
            )
        with connection.cursor() as cursor:
            if self.kind == "mysql":  # the numbers go past MariaDB's recursion cap
                cursor.execute("SET SESSION max_recursive_iterations = %s", [rows + 1])
            cursor.execute(
                f"INSERT INTO {table} (id, status, enqueued_at, started_at, finished_at,"
                " args_kwargs, priority, task_path, worker_ids, queue_name, backend_name,"
                " run_after, return_value, exception_class_path, traceback)"
                f" SELECT {uid}, CASE WHEN n % 100 = 0 THEN 'READY' ELSE 'SUCCESSFUL' END,"
                f' {now}, {now}, {now}, \'{{"args": [1, 2], "kwargs": {{}}}}\', 0,'
                f" 'tests.queue.tasks.add', '[]', 'default', 'default', {later}, NULL, '', ''"
                f" FROM {numbers}"
            )
            cursor.execute(f"ANALYZE {'TABLE ' if self.kind == 'mysql' else ''}{table}")


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

    def healthz_us(self, rows):
        return 0, 0  # RQ has no such figure

    def pickups_and_idle_cpu(self, idle_seconds, windows):
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
        idle, _ = idle_windows(worker.pid, seconds=idle_seconds, windows=windows)
        stop([worker])
        return pickups, idle, []


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def measure(kind, *, tasks, idle_seconds, idle_windows, healthz_rows):
    sys.path.insert(0, os.getcwd())
    with tempfile.TemporaryDirectory() as tmp:
        queue = RedisQueue() if kind == "rq" else DatabaseQueue(kind, Path(tmp))
        try:
            enqueue_us = queue.enqueue_us()
            throughput = {n: queue.throughput(workers=n, tasks=tasks) for n in (1, 2)}
            pickups, idle_cpu, backend_cpu = queue.pickups_and_idle_cpu(idle_seconds, idle_windows)
            healthz = queue.healthz_us(healthz_rows)
        finally:
            queue.close()
    figures = summary(
        enqueue_us=enqueue_us,
        throughput=throughput,
        pickups=pickups,
        idle_cpu=idle_cpu,
        backend_cpu=backend_cpu,
        healthz=healthz,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    if "--measure" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--measure", choices=QUEUES)
        parser.add_argument("--tasks", type=int)
        parser.add_argument("--idle-seconds", type=float)
        parser.add_argument("--idle-windows", type=int)
        parser.add_argument("--healthz-rows", type=int)
        arguments = parser.parse_args()
        measure(
            arguments.measure,
            tasks=arguments.tasks,
            idle_seconds=arguments.idle_seconds,
            idle_windows=arguments.idle_windows,
            healthz_rows=arguments.healthz_rows,
        )
    else:
        main()
