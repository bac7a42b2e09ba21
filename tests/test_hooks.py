"""The pre-generation hook refuses bad answers; hostile but valid answers still work."""

import tomllib

import pytest
import yaml

LONGEST = {
    "project_slug": "s" * 40,
    "domain_name": ".".join(["d" * 60] * 3) + ".example",
    "author_email": "a" * 60 + "@" + "e" * 60 + ".example",
}
HOSTILE = {
    "project_name": "Ça « marche » d'O'Brien \"Quoted\" \\ back\\slash",
    "description": 'It\'s a "test" with a back\\slash, {braces}, <b>tags</b> & ünïcödé.',
    "author_name": 'Zoë O\'Brien "Z" \\',
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
        ({"project_slug": "s" * 41}, "is longer than 40 characters"),
        ({"project_name": "3D Prints"}, "is not a lowercase Python name"),
        ({"author_email": "not-an-email"}, "is not an email address"),
        ({"domain_name": "https://example.com"}, "is not a lowercase host name"),
        ({"domain_name": "example.com/path"}, "is not a lowercase host name"),
        ({"domain_name": "Example.com"}, "is not a lowercase host name"),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else ""
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
    result = cookiecutter_cli("database=mysql")
    assert result.returncode != 0
    assert "mysql provided for choice variable database" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_slug_is_derived_from_a_non_ascii_name(bake):
    path = bake(project_name="Café Übung")
    assert path.name == "cafe_ubung"


def test_hostile_answers_reach_every_file_intact(bake):
    path = bake(**HOSTILE)
    pyproject = tomllib.loads((path / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE["description"]
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]
    answers = yaml.safe_load((path / ".cookiecutter.yaml").read_text())["default_context"]
    assert answers["project_name"] == HOSTILE["project_name"]
    assert answers["description"] == HOSTILE["description"]
    home = (path / path.name / "core" / "templates" / "core" / "home.html").read_text()
    assert "&lt;b&gt;tags&lt;/b&gt;" in home


@pytest.mark.parametrize("answers", [HOSTILE, LONGEST], ids=["hostile", "longest"])
def test_hostile_answers_give_a_project_that_installs_and_passes(project, answers):
    baked = project(**answers)
    baked.run("ruff", "check", ".")
    baked.run("ruff", "format", "--check", ".")
    baked.pytest()


def test_generation_writes_a_fresh_secret_key_to_a_git_ignored_env(bake):
    first, second = bake(project_slug="first"), bake(project_slug="second")
    keys = [
        line.split("=", 1)[1]
        for path in (first, second)
        for line in (path / ".env").read_text().splitlines()
        if line.startswith("SECRET_KEY=")
    ]
    assert len(keys) == 2
    assert keys[0] != keys[1]
    assert all(len(key) >= 50 for key in keys)
    assert ".env" in (first / ".gitignore").read_text().splitlines()
