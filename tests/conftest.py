"""Bake each set of answers once, install it as its README says, and run its own tools."""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("FEWPARTS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
MYSQL_URL = os.environ.get("FEWPARTS_MYSQL_URL", "mysql://root@127.0.0.1:3306")

# Variables of the calling shell that must not leak into a generated project's run.
LEAKY_VARIABLES = (
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTEST_ADDOPTS",
    "POSTGRES_RESTART_COMMAND",  # only the test that restarts a server passes its own on
    "MYSQL_RESTART_COMMAND",
)


def pytest_sessionstart(session):
    for name, port in (("PostgreSQL", 5432), ("MariaDB", 3306)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=3).close()
        except OSError:
            pytest.exit(
                f"{name} must answer on 127.0.0.1:{port}: the combinations on it run "
                "against a real server (.ci/run starts one).",
                returncode=3,
            )


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers a core. Most of a test's time is a project's suite, which
    waits on the processes it starts about half the time (docs/design-decisions.md)."""
    return 2 * len(os.sched_getaffinity(0))


# Roughly how long each test takes (for the answers that weigh least), and how much
# each answer adds to a project's own suite: the run starts the longest first, so that
# no long test starts last and holds up the end alone (with --maxschedchunk 1).
TEST_COSTS = {
    "test_ci_workflow_passes_on_the_first_push_and_stays_locked": 20,
    "test_project_suite_passes_on_sqlite_too": 20,
    "test_a_real_server_restart_is_waited_out": 15,
    "test_every_procfile_line_runs_as_a_platform_runs_it": 10,
    "test_deploy_commands_run_as_printed": 10,
    "test_both_quick_starts_serve_a_page": 10,
}
ANSWER_COSTS = {
    ("task_queue", "database"): 4,
    ("scheduler", "clock"): 1.5,
    ("scheduler", "cron"): 0.5,
    ("public_site_caching", True): 1,
    ("database", "postgresql"): 0.5,
    ("database", "mysql"): 0.5,
}


def pytest_collection_modifyitems(items):
    def cost(item):
        answers = item.callspec.params.get("answers", {}) if hasattr(item, "callspec") else {}
        weight = 1 + sum(v for (k, a), v in ANSWER_COSTS.items() if answers.get(k) == a)
        return TEST_COSTS.get(item.originalname, 1) * weight

    items.sort(key=cost, reverse=True)


def clean_environment(**env):
    """The calling shell's environment less what would leak into a project, plus env."""
    return {**{k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}, **env}


def render(answers, output_dir):
    """Render the template with answers into output_dir, ignoring any user config."""
    output_dir.mkdir(parents=True)
    config = output_dir.parent / "cookiecutter.yaml"
    config.write_text(json.dumps({"replay_dir": str(output_dir.parent / "replay")}))
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
            config_file=str(config),
        )
    )


@pytest.fixture
def bake(cookies):
    """Render the template with some answers into a directory of this test's own."""

    def bake(**answers):
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, result.exception
        return Path(result.project_path)

    return bake


def skipped_tests(junit_xml):
    """Each test a pytest run skipped, as 'module.test', with the reason it gave."""
    return {
        f"{case.get('classname')}.{case.get('name')}": skipped.get("message", "")
        for case in ElementTree.parse(junit_xml).iter("testcase")
        if (skipped := case.find("skipped")) is not None
    }


class Project:
    """A baked project, installed by `uv sync` into its own .venv as its README says."""

    def __init__(self, path):
        self.path = path
        self.venv = path / ".venv"

    def run(self, *args, **env):
        """Run a command of the project's environment; fail the test when it fails."""
        result = self.run_unchecked(*args, **env)
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} failed in {self.path}:\n{result.stdout}\n{result.stderr}"
        )
        return result

    def run_unchecked(self, *args, **env):
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.path,
            env=clean_environment(**env),
            capture_output=True,
            text=True,
            check=False,
        )

    def manage(self, *args, **env):
        return self.run("python", "manage.py", *args, **env)

    def pytest(self, *args, **env):
        """The project's own suite (or part of it); the result says which tests it skipped.

        Quietly, leaving no cache behind; -rs prints each skip with its reason.
        """
        junit_xml = self.path.parent / f"junit-{uuid.uuid4().hex[:12]}.xml"
        result = self.run(
            "python",
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit_xml}",
            *args,
            **env,
        )
        result.skipped = skipped_tests(junit_xml)
        return result

    def postgres_url(self):
        """A database of its own for one run; pytest-django creates and drops test_<name>."""
        return f"{POSTGRES_URL}/fewparts_{uuid.uuid4().hex[:12]}"

    def mysql_url(self):
        """The same on MariaDB."""
        return f"{MYSQL_URL}/fewparts_{uuid.uuid4().hex[:12]}"


def interpreter_missing(path):
    """Why `uv sync` cannot install the project at path here, or None when it can.

    uv picks the interpreter from .python-version within requires-python, as
    `uv sync` will; with downloads off, a version that is not installed is missing.
    """
    found = subprocess.run(
        ["uv", "python", "find"],
        cwd=path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 0:
        return None
    version = (path / ".python-version").read_text().strip()
    return f"Python {version} is not installed here, and `uv sync` needs it for this project"


class Bakes:
    """Each set of answers rendered once and installed once per test run.

    Every test of a run shares them, across xdist workers: the first to ask bakes
    under a file lock, the others wait and reuse. `render` stays as generated;
    `project` is a copy of it that `uv sync` installed, which checks may run in.
    """

    def __init__(self, root):
        self.root = root

    def directory(self, answers):
        key = json.dumps(answers, sort_keys=True)
        return self.root / hashlib.sha256(key.encode()).hexdigest()[:16]

    @contextlib.contextmanager
    def locked(self, directory):
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def render(self, answers):
        """The project as generated, never run: read it, or copy it to run it."""
        directory = self.directory(answers)
        with self.locked(directory):
            if not (directory / "rendered").exists():
                shutil.rmtree(directory / "render", ignore_errors=True)
                render(answers, directory / "render")
                (directory / "rendered").touch()
        (path,) = (directory / "render").iterdir()
        return path

    def project(self, answers):
        """The project installed by `uv sync`; skips the test if its Python is missing."""
        source = self.render(answers)
        directory = self.directory(answers)
        with self.locked(directory):
            if (directory / "missing").exists():
                pytest.skip((directory / "missing").read_text())
            if not (directory / "synced").exists():
                if reason := interpreter_missing(source):
                    (directory / "missing").write_text(reason)
                    pytest.skip(reason)
                target = directory / "project" / source.name
                shutil.rmtree(target.parent, ignore_errors=True)
                shutil.copytree(source, target)
                subprocess.run(
                    ["uv", "sync", "--quiet"], cwd=target, env=clean_environment(), check=True
                )
                (directory / "synced").touch()
        return Project(directory / "project" / source.name)


@pytest.fixture(scope="session")
def bakes(tmp_path_factory, worker_id):
    """The run's bakes, in a directory every xdist worker of this run shares."""
    base = tmp_path_factory.getbasetemp()
    return Bakes((base if worker_id == "master" else base.parent) / "bakes")


@pytest.fixture
def project(bakes):
    """The installed project for some answers, shared by every test of this run."""

    def make(**answers):
        return bakes.project(answers)

    return make


@pytest.fixture
def server_lock(request):
    """Share a database's server with other tests (shared=True), or have it alone to restart it.

    A restart ends every session on the server, so the test that restarts it waits
    until no other test of this run uses it, and they wait for it. SQLite has no server.
    """

    @contextlib.contextmanager
    def hold(database, *, shared):
        if database == "sqlite":
            yield
            return
        path = request.config.cache.mkdir(f"fewparts-{database}") / "lock"
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
