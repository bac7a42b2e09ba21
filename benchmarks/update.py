"""Print what an update does to an owner's edit on a line the template also changed.

    uv run python benchmarks/update.py

Two projects made from one template commit, each with the owner's edit to a settings
line in its first commit (as a project whose history does not hold the untouched
render); then the template changes that line and another file. One project is brought
up to date as its README says (a `template` branch adopted with `merge -s ours`, then
`git merge template`), the other with `cruft link` and `cruft update -y`. For each:
the exit status, files with conflict markers, `.rej` files, whether the template's
other change arrived, and the wall time of the update itself.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LINE = "# Keep connections open between requests, and check them before reuse."
OWNERS = "# The owner's words for this line."
TODAYS = "# The template's words for this line today."


def sh(line, cwd, env, check=True):
    result = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode:
        raise SystemExit(f"{line}\n{result.stdout}{result.stderr}")
    return result


def main():
    with tempfile.TemporaryDirectory(prefix="fewparts-update-") as root:
        measure(Path(root))


def measure(root):
    env = {
        "HOME": str(root),
        "PATH": f"{BIN}:/usr/bin:/bin",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.com",
    }
    template = root / "fewparts"
    shutil.copytree(
        TEMPLATE_DIR, template, ignore=shutil.ignore_patterns(".git", ".venv", "*cache*")
    )
    sh("git init -q -b main && git add -A && git commit -qm one", template, env)
    made_with = sh("git rev-parse HEAD", template, env).stdout.strip()

    projects = {}
    for name in ("merge", "cruft"):
        sh(f"cookiecutter {template} --no-input -o {root / name}", root, env)
        project = root / name / "my_site"
        settings = project / "config" / "settings.py"
        settings.write_text(settings.read_text().replace(LINE, OWNERS))
        sh("git init -q -b main && git add -A && git commit -qm mine", project, env)
        projects[name] = project
    sh(
        f"cruft link {template} --checkout {made_with} -y --config-file .cookiecutter.yaml",
        projects["cruft"],
        env,
    )
    sh("git add -A && git commit -qm link", projects["cruft"], env)
    project = projects["merge"]  # adopts the template branch at the commit that made it
    readme_lines = (project / "README.md").read_text().split("```sh\n")
    adopt = next(block for block in readme_lines if "merge -s ours" in block)
    update = next(block for block in readme_lines if "\ngit merge template" in block)
    for line in adopt.split("```")[0].splitlines():
        line = line.replace(
            "uvx cookiecutter gh:org/fewparts --checkout COMMIT", f"cookiecutter {template}"
        )
        sh(line.replace("gh:org/fewparts", str(template)), project, env)

    settings = template / "{{cookiecutter.project_slug}}" / "config" / "settings.py"
    settings.write_text(settings.read_text().replace(LINE, TODAYS))
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text().replace("## Tests\n", "## Tests, today\n"))
    sh("git commit -qam two", template, env)

    project = projects["merge"]
    started = time.perf_counter()
    for line in update.split("```")[0].splitlines():
        line = line.replace("uvx cookiecutter gh:org/fewparts", f"cookiecutter {template}")
        merge = sh(line, project, env, check=False)
    report("git merge template", project, merge, time.perf_counter() - started, env)

    project = projects["cruft"]
    started = time.perf_counter()
    result = sh("cruft update -y", project, env, check=False)
    report("cruft update -y", project, result, time.perf_counter() - started, env)


def report(name, project, result, seconds, env):
    marked = sh("git grep -l '^<<<<<<<' -- . || true", project, env).stdout.split()
    unmerged = sh("git diff --name-only --diff-filter=U", project, env).stdout.split()
    rejects = [str(path.relative_to(project)) for path in project.rglob("*.rej")]
    arrived = "## Tests, today" in (project / "README.md").read_text()
    owners = OWNERS in (project / "config" / "settings.py").read_text()
    print(
        f"{name}: exit {result.returncode}, {seconds:.1f} s;"
        f" conflict markers in {marked or 'no file'}"
        f" (unmerged: {unmerged or 'none'}); .rej files: {rejects or 'none'};"
        f" template's other change arrived: {arrived}; owner's line kept: {owners}"
    )


if __name__ == "__main__":
    main()
