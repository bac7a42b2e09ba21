"""The count of moving parts is part of the template's contract.

For every combination of answers, the template README's "What runs" table states the
processes a project runs, what runs in them, and the services it needs; the project's
Procfile runs exactly those processes, `manage.py serve` exactly those parts, and its
README's "Moving parts" table lists exactly those processes, parts and services. The
page cache adds neither, so its answer is not a column.
"""

import itertools
import re

import pytest

from .conftest import TEMPLATE_DIR
from .test_bake import ANSWERS, COMBINATIONS, answer

COLUMNS = ("database", "task_queue", "scheduler")
# | `sqlite` | `database` | `none` | 1: web | web, worker | none |
ROW = re.compile(
    r"^\| `(?P<database>\w+)` \| `(?P<task_queue>\w+)` \| `(?P<scheduler>\w+)` "
    r"\| (?P<count>\d+): (?P<processes>[\w, ]+) \| (?P<parts>[\w, ]+) "
    r"\| (?P<services>none|\d+: [\w, ]+) \|$",
    re.MULTILINE,
)
# serve's children, as its CHILDREN list names them: ("web", [...]),
CHILD = re.compile(r'^    \("(\w+)", \[', re.MULTILINE)
# How the README's "Moving parts" table says serve starts a part beside web.
BY_SERVE = "with web, by `manage.py serve` (the `web` line)"


def names(listed):
    """'2: web, worker' as ['web', 'worker']; 'none' as []."""
    if listed == "none":
        return []
    count, _, rest = listed.partition(": ")
    parts = [part.strip() for part in rest.split(",")]
    assert int(count) == len(parts), listed
    return parts


def stated():
    """{(database, task_queue, scheduler): (processes, parts, services)} from the README."""
    readme = (TEMPLATE_DIR / "README.md").read_text()
    section = re.search(r"\n## What runs\n(.*?)(?=\n## )", readme, re.DOTALL).group(1)
    table = {}
    for row in ROW.finditer(section):
        key = tuple(row.group(column) for column in COLUMNS)
        assert key not in table, f"{key} stated twice"
        processes = names(f"{row.group('count')}: {row.group('processes')}")
        parts = [part.strip() for part in row.group("parts").split(",")]
        table[key] = (processes, parts, names(row.group("services")))
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
    assert stated()[defaults] == (["web"], ["web"], [])


def test_on_sqlite_everything_runs_as_one_process_and_on_postgresql_apart():
    for (database, *_), (processes, parts, _) in stated().items():
        assert processes == (["web"] if database == "sqlite" else parts)


@pytest.mark.parametrize("answers", COMBINATIONS)
def test_each_project_runs_and_lists_exactly_the_stated_parts(bakes, answers):
    project = bakes.render(answers)
    processes, parts, services = stated()[tuple(answer(answers, column) for column in COLUMNS)]

    procfile = (project / "Procfile").read_text().splitlines()
    running = [line.split(":", 1)[0] for line in procfile if not line.startswith("release:")]
    assert running == processes
    serve = project / project.name / "core" / "management" / "commands" / "serve.py"
    assert CHILD.findall(serve.read_text()) == parts

    rows = moving_parts((project / "README.md").read_text())
    started_by_the_procfile = [
        part for part, how in rows if re.fullmatch(r"`\w+` line of the `Procfile`", how)
    ]
    assert started_by_the_procfile == processes
    started_by_serve = [part for part, how in rows if how == BY_SERVE]
    assert started_by_the_procfile + started_by_serve == parts
    for part, how in rows:
        if part not in processes:  # every other row: a service, a file, or cron
            assert "Procfile" not in how, part
    listed_services = [part for part, how in rows if "service of your platform" in how]
    assert listed_services == services
