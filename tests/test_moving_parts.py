"""The count of moving parts is part of the template's contract.

For every combination of answers, the template README's "What runs" table states the
processes and services a project needs; the project's Procfile runs exactly those
processes, and its README's "Moving parts" table lists exactly those processes and
services. The page cache adds neither, so its answer is not a column.
"""

import itertools
import re

import pytest

from .conftest import TEMPLATE_DIR
from .test_bake import ANSWERS, COMBINATIONS, answer

COLUMNS = ("database", "task_queue", "scheduler")
# | `sqlite` | `none` | `none` | 1: web | none |
ROW = re.compile(
    r"^\| `(?P<database>\w+)` \| `(?P<task_queue>\w+)` \| `(?P<scheduler>\w+)` "
    r"\| (?P<count>\d+): (?P<processes>[\w, ]+) \| (?P<services>none|\d+: [\w, ]+) \|$",
    re.MULTILINE,
)


def names(listed):
    """'2: web, worker' as ['web', 'worker']; 'none' as []."""
    if listed == "none":
        return []
    count, _, rest = listed.partition(": ")
    parts = [part.strip() for part in rest.split(",")]
    assert int(count) == len(parts), listed
    return parts


def stated():
    """{(database, task_queue, scheduler): (processes, services)} from the template README."""
    readme = (TEMPLATE_DIR / "README.md").read_text()
    section = re.search(r"\n## What runs\n(.*?)(?=\n## )", readme, re.DOTALL).group(1)
    table = {}
    for row in ROW.finditer(section):
        key = tuple(row.group(column) for column in COLUMNS)
        assert key not in table, f"{key} stated twice"
        processes = names(f"{row.group('count')}: {row.group('processes')}")
        table[key] = (processes, names(row.group("services")))
    return table


def moving_parts(readme):
    """The first column of the project README's "Moving parts" table, and the third."""
    section = re.search(r"\n## Moving parts\n(.*?)(?=\n## )", readme, re.DOTALL).group(1)
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [(row[0].removeprefix("| "), row[2].removesuffix(" |")) for row in rows[1:]]


def test_the_template_readme_states_the_count_of_every_combination():
    every = set(itertools.product(*(ANSWERS[column] for column in COLUMNS)))
    assert set(stated()) == every


def test_the_defaults_are_one_process_and_no_service():
    defaults = tuple(ANSWERS[column][0] for column in COLUMNS)
    assert stated()[defaults] == (["web"], [])


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_each_project_runs_and_lists_exactly_the_stated_parts(bakes, answers):
    project = bakes.render(answers)
    processes, services = stated()[tuple(answer(answers, column) for column in COLUMNS)]

    procfile = (project / "Procfile").read_text().splitlines()
    running = [line.split(":", 1)[0] for line in procfile if not line.startswith("release:")]
    assert running == processes

    rows = moving_parts((project / "README.md").read_text())
    started_by_the_procfile = [
        part for part, how in rows if re.fullmatch(r"`\w+` line of the `Procfile`", how)
    ]
    assert started_by_the_procfile == processes
    for part, how in rows:
        if part not in processes:  # every other row: a service, a file, or cron
            assert "Procfile" not in how, part
    listed_services = [part for part, how in rows if "service of your platform" in how]
    assert listed_services == services
