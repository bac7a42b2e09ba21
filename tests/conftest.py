"""Bake projects, give each the exact dependencies it pins, and run its own tools."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tomllib
import uuid
import warnings
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("FEWPARTS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

# Variables of the calling shell that must not leak into a generated project's run.
LEAKY_VARIABLES = (
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "POSTGRES_RESTART_COMMAND",  # only the one test that restarts PostgreSQL passes it on
)


def pytest_sessionstart(session):
    host, port = "127.0.0.1", 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        pytest.exit(
            f"PostgreSQL must answer on {host}:{port}: the PostgreSQL combinations run "
            "against a real server (.ci/run starts one).",
            returncode=3,
        )


@pytest.fixture
def bake(cookies):
    """Render the template with some answers and return the project's directory."""

    def bake(**answers):
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, result.exception
        return Path(result.project_path)

    return bake


class Project:
    """A baked project and the virtual environment holding exactly what it pins."""

    def __init__(self, path, venv):
        self.path = path
        self.venv = venv

    def run(self, *args, **env):
        """Run a command of the project's environment; fail the test when it fails."""
        result = self.run_unchecked(*args, **env)
        assert result.returncode == 0, (
            f"{' '.join(args)} failed in {self.path}:\n{result.stdout}\n{result.stderr}"
        )
        return result

    def run_unchecked(self, *args, **env):
        clean = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
        command = [str(self.venv / "bin" / args[0]), *args[1:]]
        return subprocess.run(
            command,
            cwd=self.path,
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    def manage(self, *args, **env):
        return self.run("python", "manage.py", *args, **env)

    def pytest(self, *args, **env):
        """The project's own test suite (or part of it), quietly, leaving no cache behind."""
        return self.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, **env)

    def postgres_url(self):
        """A database of its own for one run; pytest-django creates and drops test_<name>."""
        return f"{POSTGRES_URL}/fewparts_{uuid.uuid4().hex[:12]}"


def pinned_requirements(project_dir):
    """The project's dependencies and dev group, exactly as its pyproject.toml pins them."""
    pyproject = tomllib.loads((project_dir / "pyproject.toml").read_text())
    return sorted(pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["dev"])


def interpreter_for(version):
    """The system interpreter for a Python version; the newest there is, with a warning."""
    for candidate in (version, "3.14", "3.13", "3.12"):
        found = subprocess.run(
            ["uv", "python", "find", "--system", candidate],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode == 0:
            if candidate != version:
                warnings.warn(
                    f"Python {version} is not installed here: its bake runs on Python {candidate}",
                    stacklevel=2,
                )
            return found.stdout.strip()
    raise RuntimeError("uv finds no Python 3.12 or newer")


def project_venv(path, *, venvs, extra=()):
    """The shared virtual environment holding exactly what the project at path pins.

    Projects that pin the same set (plus `extra`) share one, made once per checkout
    by uv (from its cache, in about a second) and kept in the directory `venvs`.
    """
    version = (path / ".python-version").read_text().strip()
    python = interpreter_for(version)
    requirements = [*pinned_requirements(path), *extra]
    key = hashlib.sha256("\n".join([python, *requirements]).encode()).hexdigest()[:16]
    venv = venvs / key
    with open(venvs / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / "complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(["uv", "venv", "--quiet", "--python", python, venv], check=True)
            install = ["uv", "pip", "install", "--quiet", "--python", venv / "bin" / "python"]
            subprocess.run([*install, *requirements], check=True)
            (venv / "complete").touch()
    return venv


@pytest.fixture
def project(bake, request):
    """Bake with the given answers and attach the shared environment for its pins."""
    venvs = request.config.cache.mkdir("fewparts-venvs")

    def make(**answers):
        path = bake(**answers)
        return Project(path, project_venv(path, venvs=venvs))

    return make


@pytest.fixture
def postgres_lock(request):
    """Share PostgreSQL with other tests (shared=True), or have it alone to restart it.

    A restart ends every session on the server, so the test that restarts it waits
    until no other test of this run uses it, and they wait for it.
    """
    path = request.config.cache.mkdir("fewparts-postgres") / "lock"

    @contextlib.contextmanager
    def hold(*, shared):
        with open(path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield

    return hold


@pytest.fixture
def cookiecutter_cli(tmp_path):
    """Run the cookiecutter command line on this template, as a user would."""

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    return run
