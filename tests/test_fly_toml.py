"""fly.toml, parsed as TOML, against the Dockerfile, deploy/start, the Procfile and the docs."""

import json
import tomllib
from pathlib import PurePosixPath

import pytest

from .test_deploy import env_values, stages

SQLITE = [{"database": "sqlite"}, {"database": "sqlite", "task_queue": "database"}]
SERVERS = [
    {"database": database, **answers}
    for database in ("postgresql", "mysql")
    for answers in (
        {},
        {"scheduler": "clock"},  # the clock's own process
        {"task_queue": "database", "scheduler": "clock"},  # the worker's
    )
]


def read(path):
    """fly.toml, the Procfile's lines by name, and the image's final ENV and CMD."""
    fly = tomllib.loads((path / "fly.toml").read_text())
    procfile = dict(line.split(": ", 1) for line in (path / "Procfile").read_text().splitlines())
    env, command = {}, None
    for word, arguments in stages(path / "Dockerfile")[-1]:
        if word == "ENV":
            env.update(env_values(arguments, env=env))
        if word == "CMD":
            command = json.loads(arguments)
    return fly, procfile, env, command


def script_lines(path, name):
    text = (path / "deploy" / name).read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def start_lines(path):
    return script_lines(path, "start")


def release_lines(path):
    """deploy/release's commands, set -e aside."""
    return [line for line in script_lines(path, "release") if line != "set -e"]


@pytest.mark.parametrize("answers", SQLITE, ids=lambda a: "-".join(a.values()))
def test_on_sqlite_fly_mounts_the_volume_where_the_image_keeps_the_database(bake, answers):
    path = bake(**answers)
    fly, procfile, env, command = read(path)
    database = PurePosixPath(env["DATABASE_URL"].removeprefix("sqlite:///"))
    assert fly["mounts"] == {"source": "data", "destination": str(database.parent)}
    # The volume docs/deploy.md tells the owner to create is the one mounted.
    assert f"fly volumes create {fly['mounts']['source']} " in (path / "docs/deploy.md").read_text()
    # No release machine (it would migrate a file on no volume) and no process groups:
    # the one machine runs the image's command, deploy/start, release line then web line.
    assert "release_command" not in fly.get("deploy", {})
    assert "processes" not in fly
    assert command == ["sh", "deploy/start"]
    assert procfile["release"] in start_lines(path)
    assert f"exec {procfile['web']}" in start_lines(path)
    assert fly["http_service"]["internal_port"] == int(env["PORT"])
    assert "processes" not in fly["http_service"]


@pytest.mark.parametrize("answers", SERVERS, ids=lambda a: "-".join(a.values()))
def test_on_a_server_fly_migrates_once_and_runs_each_procfile_process(bake, answers):
    path = bake(**answers)
    fly, procfile, env, _ = read(path)
    # release_command runs no shell: deploy/release runs the release line's commands.
    assert fly["deploy"]["release_command"] == "sh deploy/release"
    assert release_lines(path) == procfile["release"].split(" && ")
    assert "python manage.py migrate --no-input" in release_lines(path)
    assert "mounts" not in fly
    assert set(fly["processes"]) == set(procfile) - {"release"}
    assert fly["processes"]["web"] == "sh deploy/start"
    assert start_lines(path) == ["set -e", f"exec {procfile['web']}"]
    for name, command in fly["processes"].items():
        if name != "web":
            assert command == procfile[name]
    assert fly["http_service"]["processes"] == ["web"]
    assert fly["http_service"]["internal_port"] == int(env["PORT"])
