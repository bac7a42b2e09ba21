"""Saved answers render the same project again, or one with an answer changed."""

import json
import re

import pytest
import yaml

from .conftest import TEMPLATE_DIR

VERSION = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_fewparts_version"]


def contents(path):
    """Every file git would track, with its bytes and mode; .env is ignored."""
    return {
        str(file.relative_to(path)): (file.read_bytes(), file.stat().st_mode)
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != ".env"
    }


def test_the_same_answers_give_byte_identical_projects(bake):
    first = bake(database="postgresql", project_name="Same Site")
    second = bake(database="postgresql", project_name="Same Site")
    assert contents(first) == contents(second)


def test_saved_answers_hold_no_private_keys_or_paths(bake):
    path = bake()
    saved = yaml.safe_load((path / ".cookiecutter.yaml").read_text())
    assert list(saved) == ["fewparts_version", "default_context"]
    for key, value in saved["default_context"].items():
        assert not key.startswith("_"), key
        assert str(TEMPLATE_DIR) not in str(value)
        assert not str(value).startswith("/"), key


def test_the_changelog_opens_with_the_templates_version():
    changelog = (TEMPLATE_DIR / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## (\S+)$", changelog, re.MULTILINE)
    assert versions[0] == VERSION
    dates = [tuple(int(part) for part in version.split(".")) for version in versions]
    assert all(re.fullmatch(r"20\d\d\.([1-9]|1[0-2])\.([1-9]|[12]\d|3[01])", v) for v in versions)
    assert dates == sorted(set(dates), reverse=True)
    for entry in re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]:
        assert "\nBy answer:" in entry and "\nBy hand:" in entry, entry.splitlines()[0]


def test_a_project_records_the_version_that_made_it(bake):
    saved = yaml.safe_load((bake() / ".cookiecutter.yaml").read_text())
    assert saved["fewparts_version"] == VERSION
    assert "fewparts_version" not in saved["default_context"]


def test_a_new_render_records_the_templates_version_not_the_saved_one(
    bake, cookiecutter_cli, tmp_path
):
    original = bake(project_name="Old Site")
    config = original / ".cookiecutter.yaml"
    config.write_text(config.read_text().replace(VERSION, "2020.1.1"))
    result = cookiecutter_cli("--config-file", config, "-o", tmp_path / "again")
    assert result.returncode == 0, result.stderr
    again = yaml.safe_load((tmp_path / "again" / original.name / ".cookiecutter.yaml").read_text())
    assert again["fewparts_version"] == VERSION
    assert again["default_context"]["project_name"] == "Old Site"


def test_saved_answers_render_the_project_again(bake, cookiecutter_cli, tmp_path):
    original = bake(database="postgresql", project_name="Round Trip", domain_name="trip.example")
    out = tmp_path / "again"
    result = cookiecutter_cli("--config-file", original / ".cookiecutter.yaml", "-o", out)
    assert result.returncode == 0, result.stderr
    assert contents(out / original.name) == contents(original)


def test_one_changed_answer_renders_the_changed_project(bake, cookiecutter_cli, tmp_path):
    original = bake(project_name="Changed Site")
    out = tmp_path / "changed"
    result = cookiecutter_cli(
        "--config-file", original / ".cookiecutter.yaml", "-o", out, "database=postgresql"
    )
    assert result.returncode == 0, result.stderr
    changed = out / original.name
    saved = yaml.safe_load((changed / ".cookiecutter.yaml").read_text())["default_context"]
    assert saved["database"] == "postgresql"
    assert saved["project_name"] == "Changed Site"
    assert "psycopg" in (changed / "pyproject.toml").read_text()
    assert "psycopg" not in (original / "pyproject.toml").read_text()


def caching_answer(project_dir):
    """The saved answer, and whether the files of the page cache are there."""
    saved = yaml.safe_load((project_dir / ".cookiecutter.yaml").read_text())["default_context"]
    has_files = (project_dir / project_dir.name / "pagecache").is_dir()
    return saved["public_site_caching"], has_files


@pytest.mark.parametrize(
    ("given", "expected"),
    [("yes", True), ("no", False), ("true", True), ("false", False), ("y", True), ("0", False)],
)
def test_a_yes_no_answer_on_the_command_line_is_a_boolean(
    cookiecutter_cli, tmp_path, given, expected
):
    result = cookiecutter_cli("-o", tmp_path / "out", f"public_site_caching={given}")
    assert result.returncode == 0, result.stderr
    assert caching_answer(tmp_path / "out" / "my_site") == (expected, expected)


def test_a_yes_no_answer_that_is_neither_is_refused(cookiecutter_cli, tmp_path):
    result = cookiecutter_cli("-o", tmp_path / "out", "public_site_caching=maybe")
    assert result.returncode != 0
    assert "could not be converted to a boolean" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_caching_answer_is_saved_as_a_yaml_boolean(bake):
    assert caching_answer(bake()) == (False, False)
    path = bake(public_site_caching="yes", project_slug="cached")
    assert "public_site_caching: true" in (path / ".cookiecutter.yaml").read_text()
    assert caching_answer(path) == (True, True)


def test_saved_caching_answers_render_the_project_again(bake, cookiecutter_cli, tmp_path):
    original = bake(public_site_caching=True, project_name="Cached Site")
    out = tmp_path / "again"
    result = cookiecutter_cli("--config-file", original / ".cookiecutter.yaml", "-o", out)
    assert result.returncode == 0, result.stderr
    assert contents(out / original.name) == contents(original)


@pytest.mark.parametrize(
    ("saved", "given", "expected"), [(True, "no", False), (False, "yes", True)]
)
def test_the_caching_answer_changes_on_regeneration(
    bake, cookiecutter_cli, tmp_path, saved, given, expected
):
    original = bake(public_site_caching=saved, project_name="Flip Site")
    out = tmp_path / "flipped"
    result = cookiecutter_cli(
        "--config-file", original / ".cookiecutter.yaml", "-o", out, f"public_site_caching={given}"
    )
    assert result.returncode == 0, result.stderr
    assert caching_answer(out / original.name) == (expected, expected)


@pytest.mark.parametrize(("written", "expected"), [("yes", True), ('"yes"', True), ("no", False)])
def test_a_hand_written_yes_or_no_in_saved_answers_is_understood(
    cookiecutter_cli, tmp_path, written, expected
):
    config = tmp_path / "answers.yaml"
    config.write_text(f"default_context:\n  public_site_caching: {written}\n")
    result = cookiecutter_cli("--config-file", config, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert caching_answer(tmp_path / "out" / "my_site") == (expected, expected)
