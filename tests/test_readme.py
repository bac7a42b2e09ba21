"""The generated README's deploy commands work as printed, in the order printed."""

import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import pytest

from .conftest import MYSQL_URL, POSTGRES_URL, clean_environment, interpreter_missing
from .test_bake import COMBINATIONS
from .test_ci_workflow import checkout
from .test_procfile import free_port, group_alive

# The answers that change the Deploy section: the database, and the processes that
# its honcho line names. Every combination's section is one of these (tested below).
DEPLOY_ANSWERS = [
    {"database": database, "task_queue": queue, "scheduler": scheduler}
    for database in ("sqlite", "postgresql", "mysql")
    for queue in ("none", "database")
    for scheduler in ("none", "clock")
]
DEV_GROUP = ("pytest", "ruff")


def deploy_section(readme):
    return re.search(r"\n## Deploy\n(.*?)(?=\n## |\Z)", readme, re.DOTALL).group(1)


def deploy_commands(readme):
    """The honcho line, the build step's commands, and the Backups section's, as printed."""
    section = deploy_section(readme)
    (honcho,) = re.findall(r"```sh\n(uv run [^\n]*honcho start[^\n]*)\n```", section)
    # The commands the step opens with: code spans joined by ", then ".
    build = re.search(r"\*\*Build\*\*: ((?:`[^`]+`(?:,\s+then\s+)?)+)", section).group(1)
    backups = re.search(r"\n## Backups\n\s*`([^`]+)`", readme)  # the section opens with it
    return honcho, tuple(re.findall(r"`([^`]+)`", build)), backups and backups.group(1)


def postgresql_backup_block(readme):
    """The Backups section's pg_dump and pg_restore lines, as printed; None on SQLite."""
    section = re.search(r"\n## Backups\n(.*?)(?=\n## |\Z)", readme, re.DOTALL).group(1)
    block = re.search(r"```sh\n(pg_dump [^`]*)```", section)
    return block and block.group(1).splitlines()


def shell(command, *, cwd, env):
    result = subprocess.run(
        command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    return result


def test_every_combinations_deploy_commands_are_among_those_run(bakes):
    run = {deploy_commands((bakes.render(a) / "README.md").read_text()) for a in DEPLOY_ANSWERS}
    for combination in COMBINATIONS:
        readme = (bakes.render(combination.values[0]) / "README.md").read_text()
        assert deploy_commands(readme) in run, combination.id


@pytest.mark.parametrize("answers", DEPLOY_ANSWERS, ids=lambda a: "-".join(a.values()))
def test_deploy_commands_run_as_printed(bakes, server_lock, tmp_path, answers):
    source = bakes.render(answers)
    clone = tmp_path / source.name
    checkout(source, clone)
    if reason := interpreter_missing(clone):
        pytest.skip(reason)
    honcho, build, backup = deploy_commands((clone / "README.md").read_text())
    assert build[0] == "uv sync --locked --no-dev"
    assert (backup is not None) == (answers["database"] == "sqlite")
    env = clean_environment()
    # A clone has no .env (git ignores it): the README's honcho line says to copy the example.
    shell("cp .env.example .env", cwd=clone, env=env)
    database = None
    if answers["database"] == "postgresql":
        # The README's way to name another server or database: DATABASE_URL in .env.
        database = f"fewparts_{uuid.uuid4().hex[:12]}"
        database_url = f"{POSTGRES_URL}/{database}"
        psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{POSTGRES_URL}/postgres", "-c"]
        subprocess.run([*psql, f"CREATE DATABASE {database}"], check=True)
    elif answers["database"] == "mysql":
        database = f"fewparts_{uuid.uuid4().hex[:12]}"
        database_url = f"{MYSQL_URL}/{database}"
        mysql = ["mysql", "-h", "127.0.0.1", "-u", "root", "-e"]
        subprocess.run([*mysql, f"CREATE DATABASE {database} CHARACTER SET utf8mb4"], check=True)
    if database:
        with (clone / ".env").open("a") as dotenv:
            dotenv.write(f"DATABASE_URL={database_url}\n")
    try:
        with server_lock(answers["database"], shared=True):
            # The quick start's migrate, which also writes uv.lock, as the README says.
            shell("uv run manage.py migrate", cwd=clone, env=env)
            assert (clone / "uv.lock").exists()

            # honcho: every process it names starts, and web serves the home page.
            port = free_port()
            log = tmp_path / "honcho.log"
            with log.open("w") as output:
                honcho_process = subprocess.Popen(
                    honcho,
                    shell=True,
                    cwd=clone,
                    env={**env, "PORT": str(port)},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                deadline = time.monotonic() + 60
                while True:
                    assert honcho_process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                            assert r.status == 200
                            break
                    except OSError:
                        time.sleep(0.2)
                names = honcho.split("honcho start", 1)[1].split()
                for name in names:
                    assert re.search(rf"{name}\.1 started", log.read_text()), log.read_text()
                time.sleep(1)  # honcho stops everything when one process exits
                assert honcho_process.poll() is None, log.read_text()
            finally:
                os.killpg(honcho_process.pid, signal.SIGTERM)
                honcho_process.wait(timeout=30)
                deadline = time.monotonic() + 30
                while group_alive(honcho_process.pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert not group_alive(honcho_process.pid), "a process outlived honcho"

            # Build: production's packages only, and the static files collected.
            for command in build:
                shell(command, cwd=clone, env=env)
            left = [name for name in DEV_GROUP if (clone / ".venv" / "bin" / name).exists()]
            assert left == [], "the build step left the dev group installed"
            assert (clone / "staticfiles" / "staticfiles.json").exists()

            if backup:
                written = shell(backup, cwd=clone, env=env).stdout.strip().splitlines()[-1]
                query = "SELECT count(*) FROM django_migrations"
                counts = [
                    sqlite3.connect(clone / name).execute(query).fetchone()[0]
                    for name in ("db.sqlite3", written)
                ]
                assert counts[0] > 0
                assert counts[0] == counts[1]
            if answers["database"] == "postgresql":
                restore_after_a_change(clone, env={**env, "DATABASE_URL": database_url})
    finally:
        if answers["database"] == "mysql":
            subprocess.run([*mysql, f"DROP DATABASE IF EXISTS {database}"], check=True)
        elif database:
            subprocess.run(
                [
                    *psql,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE datname = '{database}'",
                ],
                capture_output=True,
                check=False,
            )
            subprocess.run([*psql, f"DROP DATABASE IF EXISTS {database}"], check=True)


def restore_after_a_change(clone, *, env):
    """The README's pg_dump, a change, its pg_restore: the data is the dump's again."""
    dump, restore = postgresql_backup_block((clone / "README.md").read_text())
    psql = ["psql", "-q", "-At", "-v", "ON_ERROR_STOP=1", env["DATABASE_URL"], "-c"]

    def groups():
        result = subprocess.run(
            [*psql, "SELECT name FROM auth_group ORDER BY name"],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.split()

    subprocess.run([*psql, "INSERT INTO auth_group (name) VALUES ('kept')"], check=True)
    shell(dump, cwd=clone, env=env)
    subprocess.run([*psql, "DELETE FROM auth_group"], check=True)
    subprocess.run([*psql, "INSERT INTO auth_group (name) VALUES ('later')"], check=True)
    assert groups() == ["later"]
    shell(restore, cwd=clone, env=env)
    assert groups() == ["kept"]
