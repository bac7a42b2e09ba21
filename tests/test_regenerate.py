"""Saved answers render the same project again, or one with an answer changed."""

import yaml

from .conftest import TEMPLATE_DIR


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
    assert list(saved) == ["default_context"]
    for key, value in saved["default_context"].items():
        assert not key.startswith("_"), key
        assert str(TEMPLATE_DIR) not in str(value)
        assert not str(value).startswith("/"), key


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
