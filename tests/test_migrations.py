"""Migrations only grow: a project made by an earlier template version can migrate forward."""

import json
import subprocess
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE_DIR

# Template commits that made projects which exist: the last one before versions,
# then each version's commit as it is released.
RELEASED = ["4e89b63"]

EVERYTHING_ON = {"public_site_caching": True, "task_queue": "database", "scheduler": "clock"}


def render(template, answers, output_dir):
    output_dir.mkdir(parents=True)
    config = output_dir / "cookiecutter.yaml"
    config.write_text(json.dumps({"replay_dir": str(output_dir / "replay")}))
    return Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir / "out"),
            config_file=str(config),
        )
    )


def migrations(project):
    return {
        str(path.relative_to(project)): path.read_text()
        for path in project.rglob("migrations/*.py")
        if ".venv" not in path.parts
    }


@pytest.mark.parametrize("commit", RELEASED)
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_migration_a_released_version_shipped_is_still_there_unchanged(
    tmp_path, commit, database
):
    old_template = tmp_path / "template"
    old_template.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(TEMPLATE_DIR), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old_template)], input=archive.stdout, check=True)
    answers = {"database": database, **EVERYTHING_ON}
    old = migrations(render(old_template, answers, tmp_path / "old"))
    new = migrations(render(TEMPLATE_DIR, answers, tmp_path / "new"))
    for name, text in old.items():
        assert name in new, f"{name} was removed: projects that applied it cannot migrate"
        assert new[name] == text, f"{name} was changed: add a new migration instead"
