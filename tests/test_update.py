"""A project keeps up with the template: compare, update by git merge, add an answer later.

Each test runs the generated README's own command lines, word for word, in a shell
whose PATH holds only git and a `uvx` that runs this environment's cookiecutter or
cruft; `gh:org/fewparts` reaches a throwaway git repository of the template through
git's `insteadOf`, so nothing leaves the machine.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import LEAKY_VARIABLES, TEMPLATE_DIR
from .test_bake import COMBINATIONS
from .test_hooks import HOSTILE

# What cookiecutter makes of gh:org/fewparts, and the address the README gives cruft.
GH_URLS = ("https://github.com/org/fewparts.git", "https://github.com/org/fewparts")
VENV_BIN = Path(sys.executable).parent
OWNER_SETTINGS = "\n# Added by the owner.\nOWNER_SETTING = 42\n"
OWNER_NOTE = "\nThe owner's note, at the end.\n"
# How settings and README end for every answer, so that what an owner adds after them
# never touches a line the template changes. A change here conflicts with every
# owner's addition: say so in CHANGELOG.md.
SETTINGS_END = """


# This project's own settings
# Add yours below. Updates from the template (README.md, "Keep current") never
# change this section, so what you add here merges without a conflict.
"""
README_END = """

## This project's own notes

Add yours below. Updates from the template never change this section, so what you add
here merges without a conflict.
"""
IGNORED_IN_TEMPLATE_COPY = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "uv.lock"
)


class Template:
    """A throwaway git repository of this template, to commit changes to."""

    def __init__(self, path, env):
        self.path = path
        self.env = env
        shutil.copytree(TEMPLATE_DIR, path, ignore=IGNORED_IN_TEMPLATE_COPY)
        self.git("init", "-q")
        self.commit("The template as it is")

    def git(self, *args):
        return git(self.path, self.env, *args)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def replace(self, name, old, new):
        """Change one line of a template file (the path as in the project, slug templated)."""
        path = self.path / "{{cookiecutter.project_slug}}" / name
        text = path.read_text()
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new))


class Shell:
    """Runs command lines the way an owner would, with only git and uvx on PATH."""

    def __init__(self, home):
        self.home = home
        bin_dir = home / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "git").symlink_to(shutil.which("git"))
        uvx = bin_dir / "uvx"
        uvx.write_text(f'#!/bin/sh\ntool=$1\nshift\nexec "{VENV_BIN}/$tool" "$@"\n')
        uvx.chmod(0o755)
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Owner\n\temail = owner@example.com\n[init]\n\tdefaultBranch = main\n"
        )
        clean = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
        self.env = {
            **clean,
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PATH": str(bin_dir),
            "TMPDIR": str(home),
        }

    def serve_gh_from(self, template):
        """Let gh:org/fewparts clone `template` (as a user's network would GitHub)."""
        self.gh = f"url.{template.path}"
        for url in GH_URLS:
            git(self.home, self.env, "config", "--global", "--add", f"{self.gh}.insteadOf", url)

    def cut_network(self):
        git(self.home, self.env, "config", "--global", "--remove-section", self.gh)

    def run(self, line, cwd, *, check=True, tools=()):
        """One command line under bash; `tools` adds programs the line needs beyond git."""
        path = ":".join([self.env["PATH"], *{str(Path(shutil.which(t)).parent) for t in tools}])
        result = subprocess.run(
            ["/bin/bash", "-c", line],
            cwd=cwd,
            env={**self.env, "PATH": path},
            capture_output=True,
            text=True,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        return result


def git(cwd, env, *args, check=True):
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check:
        assert result.returncode == 0, f"git {' '.join(args)}\n{result.stdout}{result.stderr}"
    return result


def readme_blocks(project):
    """The shell blocks of the README's "Keep current" section, in order."""
    text = (project / "README.md").read_text()
    section = text[text.index("## Keep current") :]
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def readme_block(project, *, containing):
    (found,) = [
        block for block in readme_blocks(project) if any(containing in line for line in block)
    ]
    return found


def with_answers(lines, answers):
    """The lines with key=value answers at the end of the cookiecutter line."""
    extra = "".join(f" {key}={value}" for key, value in answers.items())
    return [line + extra if "uvx cookiecutter" in line else line for line in lines]


@pytest.fixture
def shell(tmp_path):
    return Shell(tmp_path / "home")


@pytest.fixture
def template(tmp_path, shell):
    made = Template(tmp_path / "fewparts", shell.env)
    shell.serve_gh_from(made)
    return made


def generate(shell, template, parent, **answers):
    """A new project from gh:org/fewparts, as `uvx cookiecutter` makes it."""
    parent.mkdir(exist_ok=True)
    args = " ".join(shlex.quote(f"{key}={value}") for key, value in answers.items())
    shell.run(f"uvx cookiecutter gh:org/fewparts --no-input -o {parent} {args}", parent)
    (project,) = [path for path in parent.iterdir() if path.is_dir()]
    return project


def day_one(shell, project):
    for line in readme_block(project, containing="git init"):
        shell.run(line, project)


def update(shell, project, *, check=True, **answers):
    """The README's update lines; the merge's result, which may be a conflict."""
    lines = with_answers(readme_block(project, containing="git merge template"), answers)
    for line in lines[:-1]:
        result = shell.run(line, project, check=False)
        nothing_new = "nothing to commit" in result.stdout and "commit -m" in line
        assert result.returncode == 0 or nothing_new, f"{line}\n{result.stdout}{result.stderr}"
    merge = shell.run(lines[-1], project, check=check)
    assert not list(project.rglob("*.rej")), "a merge leaves no .rej file"
    assert list((project.parent / "fewparts-update").iterdir()) == []  # empty, as the README says
    return merge


def owner_commit(shell, project, message):
    shell.run(f"git add -A && git commit -qm {shlex.quote(message)}", project)


def append(path, text):
    path.write_text(path.read_text() + text)


def recorded(project):
    return yaml.safe_load((project / ".cookiecutter.yaml").read_text())


def tracked(shell, project, ref="HEAD"):
    return set(shell.run(f"git ls-tree -r --name-only {ref}", project).stdout.split())


def run_project(project, *args):
    """A command in the project's own environment (uv run), as its README says."""
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    result = subprocess.run(
        ["uv", *args], cwd=project, env=clean, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"uv {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def install_migrate_and_test(project, *pytest_args):
    run_project(project, "sync", "-q")
    run_project(project, "run", "manage.py", "migrate", "-v", "0")
    run_project(project, "run", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args)


# For every answer, a value other than its default, and a line the compare must show.
CHANGES = {
    "project_name": ("Other Name", "+# Other Name"),
    "project_slug": ("other_slug", "Only in .: my_site"),
    "description": ("Another description.", "+Another description."),
    "author_name": ("Ann Other", '+authors = [{ name = "Ann Other"'),
    "author_email": ("ann@example.org", '"ann@example.org"'),
    "domain_name": ("other.example", '+        "other.example",'),
    "python_version": ("3.12", "+3.12"),
    "database": ("postgresql", '+    "psycopg[binary]'),
    "public_site_caching": ("yes", "pagecache"),
    "task_queue": ("database", '+    "django-tasks-db'),
    "scheduler": ("clock", '+    ("clock", ["manage.py", "clock"]),'),
}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One untouched project, its shell, and its README's two compare lines."""
    tmp_path = tmp_path_factory.mktemp("compare")
    shell = Shell(tmp_path / "home")
    template = Template(tmp_path / "fewparts", shell.env)
    shell.serve_gh_from(template)
    project = generate(shell, template, tmp_path / "src")
    today, with_queue = readme_block(project, containing="mktemp")
    return shell, project, today, with_queue


def compare(compared, line):
    shell, project, *_ = compared
    return shell.run(line, project, tools=["mktemp", "diff"], check=False)


def test_every_answer_has_a_compare_test():
    answers = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    assert set(CHANGES) == {key for key in answers if not key.startswith("_")}


def test_compare_shows_nothing_for_an_untouched_project(compared):
    result = compare(compared, compared[2])
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_compare_shows_what_the_queue_would_add(compared):
    _, project, today, with_queue = compared
    assert with_queue == today.replace("--no-input", "--no-input task_queue=database")
    result = compare(compared, with_queue)
    assert result.returncode == 1, result.stderr
    # On SQLite serve runs the worker beside web: it gains a part, the Procfile no line.
    assert '+    ("worker", ["manage.py", "worker"]),' in result.stdout
    assert f"/{project.name}/{project.name}: queue\n" in result.stdout


@pytest.mark.parametrize(("answer", "change"), CHANGES.items(), ids=list(CHANGES))
def test_compare_shows_a_changed_answer(compared, answer, change):
    value, shown = change
    line = compared[2].replace("--no-input", f"--no-input {answer}={shlex.quote(value)}")
    result = compare(compared, line)
    assert result.returncode == 1, result.stderr
    assert shown in result.stdout


# The template's change between two commits: other lines of files the owner edits
# too, and a new file.
KEEP_CONNECTIONS = "# Keep connections open between requests, and check them before reuse."
KEEP_CONNECTIONS_TODAY = "# Keep connections open between requests; check each before reuse."
KEEP_CONNECTIONS_OWNERS = "# Connections stay open between requests."


def change_the_template(template):
    template.replace("config/settings.py", KEEP_CONNECTIONS, KEEP_CONNECTIONS_TODAY)
    template.replace(
        "{{cookiecutter.project_slug}}/core/views.py",
        '"""The home page, and the health check',
        '"""The home page, and the health check (GET /healthz)',
    )
    template.replace(
        "README.md",
        "Then open http://127.0.0.1:8000/.",
        "Then open http://127.0.0.1:8000/ in a browser.",
    )
    (template.path / "{{cookiecutter.project_slug}}" / ".github" / "workflows" / "ci.yml").unlink()
    added = template.path / "{{cookiecutter.project_slug}}" / "docs" / "upgrading.md"
    added.parent.mkdir(exist_ok=True)
    added.write_text("# Upgrading {{ cookiecutter.project_name }}\n")
    return template.commit("Template: other lines of the owner's files, a new file, one fewer")


def edit_as_owner(project):
    settings = project / "config" / "settings.py"
    settings.write_text(
        settings.read_text().replace('TIME_ZONE = "UTC"', 'TIME_ZONE = "Europe/Paris"')
    )
    append(settings, OWNER_SETTINGS)
    append(
        project / project.name / "core" / "views.py",
        '\n\ndef about(request):\n    return render(request, "core/home.html")\n',
    )
    append(project / "README.md", OWNER_NOTE)


def test_an_update_merges_the_templates_changes_and_keeps_the_owners(shell, template, tmp_path):
    project = generate(shell, template, tmp_path / "src")
    day_one(shell, project)
    edit_as_owner(project)
    owner_commit(shell, project, "The owner's settings, view and note")
    change_the_template(template)

    merge = update(shell, project)

    assert "CONFLICT" not in merge.stdout
    assert shell.run("git status --porcelain", project).stdout == ""
    settings = (project / "config" / "settings.py").read_text()
    assert 'TIME_ZONE = "Europe/Paris"' in settings
    assert KEEP_CONNECTIONS_TODAY in settings
    assert settings.endswith(OWNER_SETTINGS)
    views = (project / project.name / "core" / "views.py").read_text()
    assert "def about(request):" in views
    assert "(GET /healthz)" in views
    readme = (project / "README.md").read_text()
    assert "http://127.0.0.1:8000/ in a browser." in readme
    assert readme.endswith(OWNER_NOTE)
    assert (project / "docs" / "upgrading.md").read_text() == "# Upgrading My Site\n"
    assert not (project / ".github" / "workflows" / "ci.yml").exists()
    install_migrate_and_test(project)


def test_an_owner_edit_on_a_line_the_template_changed_conflicts_there_only(
    shell, template, tmp_path
):
    project = generate(shell, template, tmp_path / "src")
    day_one(shell, project)
    edit_as_owner(project)
    settings = project / "config" / "settings.py"
    settings.write_text(settings.read_text().replace(KEEP_CONNECTIONS, KEEP_CONNECTIONS_OWNERS))
    owner_commit(shell, project, "The owner's French")
    change_the_template(template)

    merge = update(shell, project, check=False)

    assert merge.returncode == 1
    conflicted = shell.run("git diff --name-only --diff-filter=U", project).stdout.split()
    assert conflicted == ["config/settings.py"]
    text = settings.read_text()
    ours, theirs = KEEP_CONNECTIONS_OWNERS, KEEP_CONNECTIONS_TODAY
    assert f"<<<<<<< HEAD\n{ours}\n=======\n{theirs}\n>>>>>>> template\n" in text
    assert text.endswith(OWNER_SETTINGS)
    assert (project / "docs" / "upgrading.md").exists()
    assert "(GET /healthz)" in (project / project.name / "core" / "views.py").read_text()


def test_the_queue_then_the_clock_added_later_install_migrate_and_pass(shell, template, tmp_path):
    project = generate(shell, template, tmp_path / "src")
    install_migrate_and_test(project, "tests/core/test_views.py")  # writes uv.lock and db.sqlite3
    day_one(shell, project)
    assert tracked(shell, project, "template") == tracked(shell, project)
    assert "uv.lock" not in tracked(shell, project)
    append(project / "config" / "settings.py", OWNER_SETTINGS)
    append(project / "README.md", OWNER_NOTE)
    owner_commit(shell, project, "The owner's lock, setting and note")

    # A few of the new part's own tests (the template's suite runs them all for
    # these answers): the merged tree is checked equal to such a project below.
    clock_fires = (
        "tests/schedule/test_clock.py::test_the_clock_fires_on_time_and_stops_cleanly_on_sigterm"
    )
    # (answer, the part serve runs beside web on SQLite and the README's moving part it
    # brings, tests)
    worker = '("worker", ["manage.py", "worker"]),'
    steps = [
        (
            {"task_queue": "database"},
            worker,
            "| worker | runs the background tasks",
            ["tests/queue/test_enqueue.py"],
        ),
        # With the queue, the worker keeps the clock: no process of its own.
        (
            {"scheduler": "clock"},
            worker,
            "| worker | runs the background tasks that wait in the database (no broker), and keeps"
            " the clock",
            [clock_fires, "tests/schedule/test_tasks.py"],
        ),
    ]
    answers = {}
    for answer, line, part, part_tests in steps:
        answers |= answer
        update(shell, project, **answer)
        assert shell.run("git status --porcelain", project).stdout == ""
        assert (
            recorded(project)["default_context"] | answers == recorded(project)["default_context"]
        )
        serve = project / project.name / "core" / "management" / "commands" / "serve.py"
        assert line in serve.read_text()
        assert '("clock"' not in serve.read_text()
        assert (project / "Procfile").read_text().startswith("web: python manage.py serve\n")
        readme = (project / "README.md").read_text()
        assert part in readme
        assert readme.endswith(OWNER_NOTE)
        assert (project / "config" / "settings.py").read_text().endswith(OWNER_SETTINGS)
        # What the merge gave is a fresh project with these answers, plus what is the owner's.
        fresh = generate(shell, template, tmp_path / f"fresh-{len(answers)}", **answers)
        owners = {"uv.lock", "README.md", "config/settings.py"}
        assert tracked(shell, project) - owners == {
            str(path.relative_to(fresh)) for path in fresh.rglob("*") if path.is_file()
        } - owners - {".env"}
        install_migrate_and_test(project, "tests/core/test_views.py", *part_tests)
        owner_commit(shell, project, "The lock for the new answer")


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_settings_and_readme_end_with_the_owners_section(bake, answers):
    project = bake(**answers)
    settings = (project / "config" / "settings.py").read_text()
    assert settings.endswith(SETTINGS_END)
    assert settings.count("# This project's own settings") == 1
    assert (project / "README.md").read_text().endswith(README_END)


@pytest.mark.parametrize(
    "answer",
    [
        {"public_site_caching": "yes"},
        {"task_queue": "database"},
        {"scheduler": "cron"},
        {"scheduler": "clock"},
        {"database": "postgresql"},
    ],
    ids=lambda answer: "-".join(f"{k}={v}" for k, v in answer.items()),
)
def test_the_owners_additions_at_the_end_merge_when_an_answer_is_turned_on(
    shell, template, tmp_path, answer
):
    project = generate(shell, template, tmp_path / "src")
    day_one(shell, project)
    append(project / "config" / "settings.py", OWNER_SETTINGS)
    append(project / "README.md", OWNER_NOTE)
    owner_commit(shell, project, "The owner's setting and note")

    merge = update(shell, project, **answer)

    assert "CONFLICT" not in merge.stdout
    assert (project / "config" / "settings.py").read_text().endswith(OWNER_SETTINGS)
    assert (project / "README.md").read_text().endswith(OWNER_NOTE)


def test_update_runs_offline_from_a_clone_of_the_template(shell, template, tmp_path):
    project = generate(shell, template, tmp_path / "src")
    day_one(shell, project)
    change_the_template(template)
    shell.run("git clone -q https://github.com/org/fewparts fewparts", shell.home)
    kept = shell.home / ".cookiecutters" / "fewparts"
    assert kept.is_dir()  # cookiecutter's copy from the last gh: run
    shell.cut_network()
    failed = shell.run("uvx cookiecutter gh:org/fewparts --no-input -o out", tmp_path, check=False)
    assert failed.returncode != 0  # gh: is out of reach now
    assert not kept.exists()  # and the failed fetch took cookiecutter's copy with it

    lines = readme_block(project, containing="git merge template")
    lines = [line.replace("gh:org/fewparts", str(shell.home / "fewparts")) for line in lines]
    assert not (project / "docs" / "upgrading.md").exists()
    for line in lines:
        shell.run(line, project)
    assert (project / "docs" / "upgrading.md").exists()


def test_nothing_new_in_the_template_leaves_the_project_as_it_was(shell, template, tmp_path):
    project = generate(shell, template, tmp_path / "src")
    day_one(shell, project)
    head = shell.run("git rev-parse HEAD", project).stdout
    merge = update(shell, project)
    assert "Already up to date" in merge.stdout
    assert shell.run("git rev-parse HEAD", project).stdout == head


def test_a_project_made_before_its_template_branch_adopts_one_then_updates(
    shell, template, tmp_path
):
    made_with = template.git("rev-parse", "HEAD").stdout.strip()
    project = generate(shell, template, tmp_path / "src")
    edit_as_owner(project)  # committed with the render: the first commit is not untouched
    shell.run("git init -q && git add -A && git commit -qm 'My site'", project)
    change_the_template(template)

    adopt = readme_block(project, containing="git merge -s ours")
    before = shell.run("git rev-parse HEAD^{tree}", project).stdout
    for line in adopt:
        shell.run(line.replace("COMMIT", made_with), project)
    assert shell.run("git rev-parse HEAD^{tree}", project).stdout == before
    assert not (project / "docs" / "upgrading.md").exists()

    update(shell, project)
    settings = (project / "config" / "settings.py").read_text()
    assert 'TIME_ZONE = "Europe/Paris"' in settings
    assert KEEP_CONNECTIONS_TODAY in settings
    assert settings.endswith(OWNER_SETTINGS)
    assert (project / "docs" / "upgrading.md").exists()


def link_with_cruft(shell, project, commit):
    (line,) = readme_block(project, containing="cruft link")
    shell.run(line.replace("COMMIT", commit), project)
    cruft_file = project / ".cruft.json"
    state = json.loads(cruft_file.read_text())
    cruft_file.write_text(json.dumps({**state, "skip": [".env"]}))  # as the README says
    return state


def test_cruft_links_with_the_recorded_answers(shell, template, tmp_path):
    commit = template.git("rev-parse", "HEAD").stdout.strip()
    project = generate(shell, template, tmp_path / "src", task_queue="database")
    state = link_with_cruft(shell, project, commit)
    assert state["commit"] == commit
    answers = recorded(project)["default_context"]
    assert {key: state["context"]["cookiecutter"][key] for key in answers} == answers
    diff = shell.run("uvx cruft diff --exit-code", project, check=False)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stderr


# Answers that round-trip through every step today. An emoji does not yet (see
# test_an_emoji_answer_round_trips_through_every_step).
ROUND_TRIP = HOSTILE


def check_round_trip(shell, template, tmp_path, answers):
    project = generate(shell, template, tmp_path / "src", **answers)
    kept = recorded(project)["default_context"]
    assert {key: kept[key] for key in answers} == answers
    day_one(shell, project)

    compare = readme_block(project, containing="mktemp")[0]
    result = shell.run(compare, project, tools=["mktemp", "diff"], check=False)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr

    change_the_template(template)
    update(shell, project, task_queue="database")
    assert recorded(project)["default_context"] == {**kept, "task_queue": "database"}
    assert (
        f"# Upgrading {answers['project_name']}\n"
        == (project / "docs" / "upgrading.md").read_text()
    )

    state = link_with_cruft(shell, project, template.git("rev-parse", "HEAD").stdout.strip())
    assert {key: state["context"]["cookiecutter"][key] for key in answers} == answers
    diff = shell.run("uvx cruft diff --exit-code", project, check=False)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stderr


def test_hostile_answers_round_trip_through_every_step(shell, template, tmp_path):
    check_round_trip(shell, template, tmp_path, ROUND_TRIP)


def test_an_emoji_answer_round_trips_through_every_step(shell, template, tmp_path):
    check_round_trip(shell, template, tmp_path, {**ROUND_TRIP, "project_name": "Rocket 🚀 Site"})


def test_a_project_from_before_versions_adopts_and_meets_the_changelogs_one_conflict(
    shell, template, tmp_path
):
    """The template as it was before 2026.12.2: no version, no owner's closing sections."""
    slug_dir = template.path / "{{cookiecutter.project_slug}}"
    for name, end in [("config/settings.py", SETTINGS_END), ("README.md", README_END)]:
        path = slug_dir / name
        path.write_text(path.read_text().removesuffix(end) + "\n")
    saved = slug_dir / ".cookiecutter.yaml"
    saved.write_text(re.sub(r"(?m)^fewparts_version: .*\n", "", saved.read_text()))
    before = template.commit("The template before versions")
    project = generate(shell, template, tmp_path / "src")
    assert "fewparts_version" not in recorded(project)
    shell.run("git init -q && git add -A && git commit -qm 'My site'", project)
    append(project / "config" / "settings.py", OWNER_SETTINGS)
    owner_commit(shell, project, "The owner's setting")
    template.git("revert", "--no-edit", "HEAD")

    # The commands come from a README of today, the project's own being older.
    today = generate(shell, template, tmp_path / "today")
    for line in readme_block(today, containing="git merge -s ours"):
        shell.run(line.replace("COMMIT", before), project)
    merge = update(shell, project, check=False)

    assert merge.returncode == 1
    conflicted = shell.run("git diff --name-only --diff-filter=U", project).stdout.split()
    assert conflicted == ["config/settings.py"]  # CHANGELOG.md, 2026.12.2, "By hand"
    assert recorded(project)["fewparts_version"] == recorded(today)["fewparts_version"]
    assert (project / "README.md").read_text().endswith(README_END)
