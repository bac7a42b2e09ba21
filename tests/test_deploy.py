"""The files a deployment relies on: the Dockerfile, rehearsed step by step, and the units."""

import fnmatch
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import LEAKY_VARIABLES, MYSQL_URL, POSTGRES_URL
from .test_quickstart import free_port, wait_for_200

HADOLINT = Path(sys.executable).parent / "hadolint"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

# Every unit file, with the answers that bring it: with a queue the worker keeps the
# clock, so the clock's own unit comes without one; on SQLite the web unit runs serve,
# which runs them both beside gunicorn.
ALL_UNITS = {"database": "postgresql", "task_queue": "database", "scheduler": "clock"}
CLOCK_UNIT = {"database": "postgresql", "task_queue": "none", "scheduler": "clock"}
ALL_UNITS_CRON = {"database": "postgresql", "task_queue": "database", "scheduler": "cron"}
ONE_UNIT = {"database": "sqlite", "task_queue": "database", "scheduler": "clock"}
UNIT_ANSWERS = [ALL_UNITS, CLOCK_UNIT, ALL_UNITS_CRON, ONE_UNIT]
UNIT_IDS = ["clock", "clock-process", "cron", "sqlite-serve"]

# What the image has at its paths, and where the rehearsal puts them instead.
IMAGE_APP, IMAGE_DATA = "/app", "/data"
DOCKER_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def instructions(dockerfile):
    """The Dockerfile's (instruction, arguments) pairs, continued lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, arguments = line.partition(" ")
            yield word.upper(), arguments.strip()


def stages(dockerfile):
    """The instructions of each stage, from its FROM on."""
    found = []
    for word, arguments in instructions(dockerfile):
        if word == "FROM":
            found.append([])
        found[-1].append((word, arguments))
    return found


def env_values(arguments, *, env):
    """ENV's KEY=value pairs, with $NAME taken from env as Docker does."""
    values = {}
    for pair in shlex.split(arguments):
        name, value = pair.split("=", 1)
        values[name] = re.sub(r"\$(\w+)", lambda m: env.get(m[1], ""), value)
    return values


def ignored(relative, patterns):
    """Whether .dockerignore's patterns keep a path out of the build context."""
    candidates = [
        "/".join(relative.parts[:n]) for n in range(1, len(relative.parts) + 1)
    ]  # the path and each directory above it
    tails = ["/".join(relative.parts[n:]) for n in range(len(relative.parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(tail, pattern[3:]) for tail in tails)
        else:
            matched = any(fnmatch.fnmatch(path, pattern) for path in candidates)
        if matched:
            result = not negated
    return result


def build_context(project, destination):
    """Copy what docker build would send: the project less what .dockerignore names."""
    patterns = [
        line.strip()
        for line in (project / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for file in project.rglob("*"):
        relative = file.relative_to(project)
        if file.is_file() and not ignored(relative, patterns):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
    return destination


def run_build_stage(stage, *, context, app, env):
    """Run the build stage's steps in app; return the first failing RUN's result, or None."""
    for word, arguments in stage:
        if word == "ENV":
            env.update(env_values(arguments, env=env))
        elif word == "WORKDIR":
            assert arguments == IMAGE_APP
        elif word == "COPY" and arguments.startswith("--from="):
            assert "astral-sh/uv" in arguments  # the rehearsal uses the uv on PATH
        elif word == "COPY":
            *sources, target = arguments.split()
            assert target in {".", "./"}
            for source in sources:
                for path in [context] if source == "." else context.glob(source):
                    if path.is_dir():
                        shutil.copytree(path, app, dirs_exist_ok=True)
                    else:
                        shutil.copy2(path, app / path.name)
        elif word == "RUN" and arguments.startswith("apt-get update"):
            # The system's packages: this machine must have them (.ci/run installs them).
            packages = re.search(r"--no-install-recommends ([^&]+)", arguments).group(1).split()
            subprocess.run(["dpkg-query", "--status", *packages], capture_output=True, check=True)
        elif word == "RUN":
            command = re.sub(r"^(--\S+\s+)+", "", arguments)  # cache mounts: docker's alone
            result = subprocess.run(
                ["sh", "-c", command], cwd=app, env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                return result
    return None


def image_user(python):
    """nobody when the tests run as root and nobody can run python; else ourselves.

    Where the interpreter sits in root's home (pyenv), nobody cannot run it: the test
    then runs as root and proves instead that the site writes nothing to the code.
    """
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    try:
        subprocess.run(
            [python, "-c", "pass"],
            user=nobody.pw_uid,
            group=nobody.pw_gid,
            extra_groups=[],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return nobody


def files_under(path):
    return {p.relative_to(path) for p in path.rglob("*")}


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_dockerfile_passes_hadolint(bake, database):
    path = bake(database=database)
    result = subprocess.run(
        [HADOLINT, "--failure-threshold", "style", "--no-color", path / "Dockerfile"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_image_steps_build_and_serve_healthz_as_rehearsed(
    bake, server_lock, tmp_path, database
):
    """The Dockerfile's own steps, in order, on a clean copy; then its command serves."""
    path = bake(database=database)  # a fresh render of its own, which this test changes
    (path / ".git").mkdir()  # what a working copy has and the image must not
    (path / "db.sqlite3").write_text("local data")
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    build, final = stages(path / "Dockerfile")

    # Without uv.lock the build stops with one sentence that says what to do.
    context = build_context(path, tmp_path / "context-without-lock")
    (tmp_path / "app-without-lock").mkdir()
    failed = run_build_stage(
        build, context=context, app=tmp_path / "app-without-lock", env=dict(clean)
    )
    assert failed is not None, "the build went on without uv.lock"
    assert failed.stderr.strip() == (
        "uv.lock is missing: run uv lock, commit uv.lock and build again."
    )

    # With it (the project's first `uv run` writes it), every step passes.
    subprocess.run(["uv", "lock", "--quiet"], cwd=path, env=clean, check=True)
    context = build_context(path, tmp_path / "context")
    assert not {".env", ".git", "db.sqlite3", ".venv"} & {p.name for p in context.iterdir()}
    root = Path(tempfile.mkdtemp(prefix="fewparts-image-"))  # readable by another user
    try:
        root.chmod(0o755)
        app, data, home = root / "app", root / "data", root / "home"
        for directory in (app, data, home):
            directory.mkdir()
        failed = run_build_stage(build, context=context, app=app, env=dict(clean))
        assert failed is None, failed and failed.stdout + failed.stderr
        assert (app / "staticfiles" / "staticfiles.json").exists(), "collectstatic at build"
        assert not list(app.rglob("db.sqlite3*")), "no database in the image"

        # The final stage's environment, with its paths moved under root.
        env = {"PATH": DOCKER_DEFAULT_PATH, "HOME": str(home)}
        command = None
        for word, arguments in final:
            if word == "ENV":
                moved = arguments.replace(IMAGE_APP, str(app)).replace(IMAGE_DATA, str(data))
                env.update(env_values(moved, env=env))
            elif word == "RUN":
                assert "useradd" in arguments  # the user, and on SQLite the volume's owner
            elif word == "CMD":
                command = json.loads(arguments)
        user = image_user(app / ".venv" / "bin" / "python")
        if user:
            os.chown(data, user.pw_uid, user.pw_gid)
            os.chown(home, user.pw_uid, user.pw_gid)
        port = free_port()
        env |= {
            "SECRET_KEY": "rehearsal-" + "x" * 50,
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",  # the rehearsal's own port
        }
        with server_lock(database, shared=True):
            mysql = ["mysql", "-h", "127.0.0.1", "-u", "root", "-e"]
            if database != "sqlite":
                name = f"fewparts_{uuid.uuid4().hex[:12]}"
                if database == "postgresql":
                    subprocess.run(
                        ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True
                    )
                    env["DATABASE_URL"] = f"{POSTGRES_URL}/{name}"
                else:
                    subprocess.run([*mysql, f"CREATE DATABASE {name}"], check=True)
                    env["DATABASE_URL"] = f"{MYSQL_URL}/{name}"
                # The release step as fly.toml, Render and Railway run it, in the image.
                subprocess.run(
                    ["sh", "deploy/release"],
                    cwd=app,
                    env=env,
                    user=user and user.pw_uid,
                    group=user and user.pw_gid,
                    extra_groups=[] if user else None,
                    check=True,
                    capture_output=True,
                )
            before = files_under(app)
            server = subprocess.Popen(
                command,
                cwd=app,
                env=env,
                user=user and user.pw_uid,
                group=user and user.pw_gid,
                extra_groups=[] if user else None,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                assert wait_for_200(url, server) == 200
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert json.load(response)["database"] == "up"
            finally:
                server.terminate()
                _, errors = server.communicate(timeout=40)
                if database == "postgresql":
                    subprocess.run(
                        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name],
                        check=True,
                    )
                elif database == "mysql":
                    subprocess.run([*mysql, f"DROP DATABASE {name}"], check=True)
            assert server.returncode == 0, errors
        assert files_under(app) == before, "the site wrote to the image's code"
        if database == "sqlite":
            assert (data / "db.sqlite3").exists(), "the data goes to the volume"
            # migrated by the image's command, as no release step can reach the volume
            check = [app / ".venv" / "bin" / "python", "manage.py", "migrate", "--check"]
            subprocess.run(check, cwd=app, env=env, check=True, capture_output=True)
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_start_script_runs_the_procfile_lines(bake, database):
    """deploy/start is the Procfile's web line, after its release line on SQLite."""
    path = bake(database=database)
    procfile = dict(line.split(": ", 1) for line in (path / "Procfile").read_text().splitlines())
    start = [
        line
        for line in (path / "deploy" / "start").read_text().splitlines()
        if line and not line.startswith("#") and line != "set -e"
    ]
    expected = [f"exec {procfile['web']}"]
    if database == "sqlite":
        expected.insert(0, procfile["release"])
    assert start == expected
    # deploy/release: the release line's commands, for release steps without a shell.
    release = path / "deploy" / "release"
    assert release.exists() == (database != "sqlite")
    if release.exists():
        commands = [
            line
            for line in release.read_text().splitlines()
            if line and not line.startswith("#") and line != "set -e"
        ]
        assert commands == procfile["release"].split(" && ")


def verify(units, *, root):
    """systemd-analyze verify on units installed under root; its complaints, or none."""
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", f"--root={root}", *units],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SYSTEMD_LOG_COLOR": "0"},
    )
    return (result.returncode, (result.stdout + result.stderr).strip())


@pytest.fixture
def systemd_root(tmp_path):
    """A file system root for systemd-analyze: systemd's own units and the project's paths."""
    if not SYSTEMD_ANALYZE:
        pytest.fail("systemd-analyze checks the units: apt-get install systemd (.ci/run does)")
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "bin").mkdir()
    shutil.copy2("/bin/sh", root / "bin/sh")
    return root


@pytest.mark.parametrize("answers", UNIT_ANSWERS, ids=UNIT_IDS)
def test_every_systemd_unit_passes_systemd_analyze_verify(project, systemd_root, answers):
    baked = project(**answers)
    slug = baked.path.name
    units = systemd_root / "etc/systemd/system"
    for unit in (baked.path / "deploy" / "systemd").iterdir():
        shutil.copy2(unit, units / unit.name)
    if answers["scheduler"] == "cron":
        timers = baked.manage("systemd_timers", units).stdout.split()
        assert timers, "one timer per job"
    python = systemd_root / "srv" / slug / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    names = [
        f"/etc/systemd/system/{unit.name}"
        for unit in sorted(units.iterdir())
        if "@." not in unit.name
    ]
    # A unit for each process of the Procfile, no more.
    procfile = (baked.path / "Procfile").read_text().splitlines()
    expected = {line.split(":", 1)[0] for line in procfile} - {"release"}
    assert {name.rsplit("-", 1)[1] for name in names if name.endswith(".service")} == {
        f"{process}.service" for process in expected
    }
    assert verify(names, root=systemd_root) == (0, "")

    # The same check refuses a unit with a mistake in it.
    web = units / f"{slug}-web.service"
    web.write_text(web.read_text().replace("KillMode=mixed", "KillMode=mixd"))
    assert verify([f"/etc/systemd/system/{web.name}"], root=systemd_root) != (0, "")


@pytest.mark.parametrize("answers", UNIT_ANSWERS, ids=UNIT_IDS)
def test_each_process_unit_runs_its_procfile_line(bake, answers):
    path = bake(**answers)
    procfile = dict(line.split(": ", 1) for line in (path / "Procfile").read_text().splitlines())
    for unit in (path / "deploy" / "systemd").glob("*.service"):
        process = unit.stem.rsplit("-", 1)[1]
        (command,) = re.findall(r"^ExecStart=(.*)$", unit.read_text(), re.MULTILINE)
        if process == "web":
            assert command == "/bin/sh deploy/start"
        elif process == "job@":
            assert command.endswith("manage.py runjob %i")
        else:
            assert command == f"/srv/{path.name}/.venv/bin/{procfile[process]}"
