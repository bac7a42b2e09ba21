"""The pre-generation hook refuses bad answers; hostile but valid answers still work."""

import json
import keyword
import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from .conftest import TEMPLATE_DIR

# Every optional part on, so that every file that carries an answer is rendered.
ALL_ON = {
    "database": "postgresql",
    "public_site_caching": True,
    "task_queue": "database",
    "scheduler": "clock",
}
LONGEST = {
    "project_slug": "s" * 40,
    "domain_name": ".".join(["d" * 60] * 3) + ".example",
    "author_email": "a" * 60 + "@" + "e" * 60 + ".example",
}
HOSTILE = {
    "project_name": "Ça « marche » d'O'Brien \"Quoted\" \\ back\\slash 🚀",
    "description": 'It\'s a "test" with a back\\slash, {braces}, <b>tags</b> & ünïcödé 👨‍👩‍👧 𝄞.',
    "author_name": 'Zoë O\'Brien "Z" \\ 🦄',
    "domain_name": "shop.xn--p1ai",
}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"project_slug": "My-Site"}, "is not a lowercase Python name"),
        ({"project_slug": "1site"}, "is not a lowercase Python name"),
        ({"project_slug": "class"}, "is not a lowercase Python name"),
        ({"project_slug": "django"}, "would shadow the module"),
        ({"project_slug": "config"}, "would shadow the module"),
        ({"project_slug": "test"}, "would shadow the module"),
        ({"project_slug": "site"}, "would shadow the module"),
        ({"project_slug": "json"}, "would shadow the module"),
        ({"project_slug": "packaging"}, "would shadow the module"),
        ({"project_slug": "sqlparse"}, "would shadow the module"),
        ({"project_slug": "cronsim"}, "would shadow the module"),
        ({"project_slug": "staticfiles"}, "git would ignore it"),
        ({"project_slug": "__pycache__"}, "is not a lowercase Python name"),
        ({"project_slug": "_private"}, "is not a lowercase Python name"),
        ({"project_name": "Tab\there"}, "holds a control character"),
        ({"description": "two\nlines"}, "holds a control character"),
        ({"author_name": "para\u2029graph"}, "holds a control character"),
        ({"author_name": "bad \udcff byte"}, "an undecodable byte"),
        ({"description": "{% raw %}{{ request }}{% endraw %}"}, "holds template syntax"),
        ({"domain_name": "shop.рф"}, "must be written as DNS writes it: shop.xn--p1ai."),
        ({"domain_name": "xn--zz.example"}, "is not a lowercase host name"),
        ({"project_slug": "s" * 41}, "is longer than 40 characters"),
        ({"project_name": "3D Prints"}, "is not a lowercase Python name"),
        ({"author_email": "not-an-email"}, "is not an email address"),
        ({"domain_name": "https://example.com"}, "is not a lowercase host name"),
        ({"domain_name": "example.com/path"}, "is not a lowercase host name"),
        ({"domain_name": "Example.com"}, "is not a lowercase host name"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v!r}" for k, v in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_invalid_answers_stop_generation_with_one_sentence(
    cookiecutter_cli, tmp_path, answer, message
):
    result = cookiecutter_cli(*(f"{k}={v}" for k, v in answer.items()))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert any(message in line for line in errors), result.stderr
    assert list(tmp_path.iterdir()) == [], "a half-written project was left behind"


def test_an_answer_outside_the_choices_leaves_nothing(cookiecutter_cli, tmp_path):
    result = cookiecutter_cli("database=oracle")
    assert result.returncode != 0
    assert "oracle provided for choice variable database" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_slug_is_derived_from_a_non_ascii_name(bake):
    path = bake(project_name="Café Übung")
    assert path.name == "cafe_ubung"


def test_hostile_answers_reach_every_file_intact(bake):
    path = bake(**HOSTILE, **ALL_ON)
    pyproject = tomllib.loads((path / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE["description"]
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]
    answers = yaml.safe_load((path / ".cookiecutter.yaml").read_text())["default_context"]
    for name in ("project_name", "description", "author_name", "domain_name"):
        assert answers[name] == HOSTILE[name]
    home = (path / path.name / "core" / "templates" / "core" / "home.html").read_text()
    assert "&lt;b&gt;tags&lt;/b&gt;" in home
    assert "🚀" in home


def cookiecutter_again(saved, out, **env):
    """Render the template from saved answers, as the README's Regenerate section says."""
    command = [sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR)]
    return subprocess.run(
        [*command, "--config-file", saved, "--no-input", "-o", out],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def tracked(path):
    return {
        str(file.relative_to(path)): file.read_bytes()
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != ".env"
    }


@pytest.mark.parametrize("locale", [{}, {"LANG": "C", "LC_ALL": "C"}], ids=["utf8", "C"])
def test_hostile_saved_answers_render_the_same_project_again(bake, tmp_path, locale):
    original = bake(**HOSTILE)
    result = cookiecutter_again(original / ".cookiecutter.yaml", tmp_path / "again", **locale)
    assert result.returncode == 0, result.stderr
    assert tracked(tmp_path / "again" / original.name) == tracked(original)


# Lists what the environment holds: import names (first part of every installed
# path) and distribution names, as a slug would clash with them.
INSTALLED_NAMES = """
import importlib.metadata, json, re
names = set()
for dist in importlib.metadata.distributions():
    names.add(re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower())
    for file in dist.files or ():
        top = file.parts[0]
        if len(file.parts) > 1 and not top.endswith((".dist-info", ".data")) and top != "..":
            names.add(top)
        elif len(file.parts) == 1 and top.endswith((".py", ".so")):
            names.add(top.split(".")[0])
print(json.dumps(sorted(names - {"__pycache__"})))
"""


@pytest.mark.parametrize(("database", "driver"), [("postgresql", "psycopg"), ("mysql", "MySQLdb")])
def test_no_slug_can_clash_with_what_the_project_installs(project, cookies, database, driver):
    """Every name the fully loaded project's pinned set installs is refused as a slug."""
    baked = project(**{**ALL_ON, "database": database})
    installed = json.loads(baked.run("python", "-c", INSTALLED_NAMES).stdout)
    assert {"packaging", "asgiref", "sqlparse", "tzlocal", driver} <= set(installed)
    accepted = [
        name
        for name in installed
        if cookies.bake(extra_context={"project_slug": name}).exit_code == 0
    ]
    assert accepted == []


def test_no_slug_can_be_a_name_that_git_ignores(bake, cookies):
    ignored = [
        line.rstrip("/")
        for line in (bake() / ".gitignore").read_text().splitlines()
        if re.fullmatch(r"\w+/?", line) and not keyword.iskeyword(line.rstrip("/"))
    ]
    assert {"staticfiles", "__pycache__"} <= set(ignored)
    accepted = [
        name
        for name in ignored
        if cookies.bake(extra_context={"project_slug": name}).exit_code == 0
    ]
    assert accepted == []


@pytest.mark.parametrize("answers", [HOSTILE, LONGEST], ids=["hostile", "longest"])
def test_hostile_answers_give_a_project_that_installs_and_passes(project, answers):
    baked = project(**answers)
    baked.run("ruff", "check", ".")
    baked.run("ruff", "format", "--check", ".")
    baked.pytest()


@pytest.mark.parametrize(
    "answers",
    [
        {**HOSTILE, **ALL_ON},
        {**LONGEST, **ALL_ON},
        {**LONGEST, **ALL_ON, "scheduler": "cron"},
    ],
    ids=["hostile-all-on", "longest-all-on", "longest-all-on-cron"],
)
def test_hostile_answers_with_every_part_on_lint_import_and_serve(project, answers):
    """Every file that carries an answer, rendered: lint-clean, every test module imports,
    the pages that show the answers render, and the production checks pass."""
    baked = project(**answers)
    baked.run("ruff", "check", ".")
    baked.run("ruff", "format", "--check", ".")
    sqlite_url = f"sqlite:///{baked.path / 'db.sqlite3'}"
    baked.pytest("--collect-only", DATABASE_URL=sqlite_url)
    baked.pytest("tests/core/test_views.py", DATABASE_URL=sqlite_url)
    production = {"DEBUG": "false", "SECRET_KEY": "k" * 30 + "-production-only-" + "k" * 30}
    baked.manage("check", "--deploy", "--fail-level", "WARNING", **production)
