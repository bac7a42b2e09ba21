"""What each shape of the MySQL worker's wake-up question costs, per question asked.

Bakes a MySQL project with the queue, installs it, migrates a fresh database on the
MariaDB at 127.0.0.1:3306 (root, no password), then runs this same file inside the
project's environment: each question is asked --count times on one connection through
the driver's own cursor (as queue/mysql.py asks it), with no task row, then with
--deferred READY rows that wait for a later time. Prints the server's CPU per question
(the connection's thread in information_schema.PROCESSLIST's TID, from schedstat), the
asking process's CPU and the wall time, medians of --rounds.

    uv run python benchmarks/mysql_wake.py [--count 2000] [--deferred 5000] [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root"}
TABLE = "django_tasks_database_dbtaskresult"

QUESTIONS = {
    # The shipped one (queue/mysql.py).
    "newest READY enqueue, RUNNING count": (
        f"SELECT (SELECT MAX(enqueued_at) FROM {TABLE} WHERE status = 'READY'),"
        f" (SELECT COUNT(*) FROM {TABLE} WHERE status = 'RUNNING')"
    ),
    "READY count capped at 1000, newest enqueue": (
        f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {TABLE} WHERE status = 'READY'"
        f" LIMIT 1000) AS ready), (SELECT MAX(enqueued_at) FROM {TABLE} WHERE status = 'READY')"
    ),
    "READY count, newest enqueue": (
        f"SELECT COUNT(*), MAX(enqueued_at) FROM {TABLE} WHERE status = 'READY'"
    ),
    "SELECT 1 (a round trip, the floor)": "SELECT 1",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--deferred", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    from cookiecutter.main import cookiecutter

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VIRTUAL_ENV"}}
    with tempfile.TemporaryDirectory() as tmp:
        answers = {"project_name": "Bench Site", "database": "mysql", "task_queue": "database"}
        project = Path(
            cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=tmp, extra_context=answers)
        )
        subprocess.run(["uv", "sync", "--quiet"], cwd=project, env=env, check=True)
        python = project / ".venv" / "bin" / "python"
        command = [python, __file__, "--measure", "--count", str(options.count)]
        command += ["--deferred", str(options.deferred), "--rounds", str(options.rounds)]
        subprocess.run(command, cwd=project, env=env, check=True)


def measure(*, count, deferred, rounds):
    import MySQLdb

    name = f"fewparts_bench_{uuid.uuid4().hex[:12]}"
    admin = MySQLdb.connect(**MYSQL)
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        env = {**os.environ, "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{name}"}
        migrate = [sys.executable, "manage.py", "migrate", "--verbosity", "0"]
        subprocess.run(migrate, env=env, check=True)
        connection = MySQLdb.connect(db=name, **MYSQL)
        cursor = connection.cursor()
        cursor.execute(
            "SELECT @@pid_file, tid FROM information_schema.processlist WHERE id = CONNECTION_ID()"
        )
        pid_file, tid = cursor.fetchone()
        thread = Path(f"/proc/{Path(pid_file).read_text().strip()}/task/{tid}/schedstat")
        print(f"us per question, medians of {rounds} rounds of {count}: server / client / wall\n")
        for rows in (0, deferred):
            fill(connection, rows)
            print(f"with {rows:,} deferred READY rows")
            for label, question in QUESTIONS.items():
                figures = [ask(cursor, question, count, thread) for _ in range(rounds)]
                server, client, wall = (statistics.median(f[i] for f in figures) for i in range(3))
                print(f"  {label:44} {server:8.1f} {client:8.1f} {wall:8.1f}")
        connection.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE {name}")
        admin.close()


def fill(connection, rows):
    """rows READY tasks deferred to a later year, in one statement."""
    cursor = connection.cursor()
    cursor.execute(f"DELETE FROM {TABLE}")
    if rows:
        cursor.execute("SET SESSION max_recursive_iterations = %s", [rows + 1])
        cursor.execute(
            f"INSERT INTO {TABLE} (id, status, enqueued_at, args_kwargs, priority, task_path,"
            " worker_ids, queue_name, backend_name, run_after, exception_class_path, traceback)"
            " SELECT replace(uuid(), '-', ''), 'READY', now(6), '{}', 0, 'x', '[]', 'default',"
            " 'default', '2999-01-01', '', '' FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL"
            f" SELECT n + 1 FROM s WHERE n < {rows}) SELECT n FROM s) AS numbers"
        )
    connection.commit()


def ask(cursor, question, count, thread):
    """(server us, client us, wall us) per question, over count questions."""
    for _ in range(100):
        cursor.execute(question)
        cursor.fetchall()
    server = int(thread.read_text().split()[0])
    client, wall = time.process_time_ns(), time.perf_counter_ns()
    for _ in range(count):
        cursor.execute(question)
        cursor.fetchall()
    server = int(thread.read_text().split()[0]) - server
    client, wall = time.process_time_ns() - client, time.perf_counter_ns() - wall
    return server / count / 1000, client / count / 1000, wall / count / 1000


if __name__ == "__main__":
    if "--measure" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--measure", action="store_true")
        parser.add_argument("--count", type=int)
        parser.add_argument("--deferred", type=int)
        parser.add_argument("--rounds", type=int)
        arguments = parser.parse_args()
        measure(count=arguments.count, deferred=arguments.deferred, rounds=arguments.rounds)
    else:
        main()
