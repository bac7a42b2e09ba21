"""The quick starts that the READMEs print work as printed, on a machine with only uv."""

import os
import re
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from .conftest import LEAKY_VARIABLES, TEMPLATE_DIR


def quick_start(readme):
    """The commands of the first shell block under '## Quick start', comments dropped."""
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_200(url, server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            assert server.poll() is None, "the server exited before answering"
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_both_quick_starts_serve_a_page(tmp_path):
    # A fresh home: the template's quick start writes to ~/src, and no .env or
    # virtual environment of ours is visible to the commands.
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
    env["HOME"] = str(tmp_path)
    generate, run_tests = quick_start((TEMPLATE_DIR / "README.md").read_text())
    assert run_tests == "uv run pytest"  # what .ci/run runs
    subprocess.run(generate, shell=True, cwd=TEMPLATE_DIR, env=env, check=True)

    (project,) = (tmp_path / "src").iterdir()
    (project / ".env").unlink()  # what a fresh clone of the project has
    *setup, serve = quick_start((project / "README.md").read_text())
    assert len(setup) + 1 <= 2, "the project's quick start is at most two commands"
    for command in setup:
        subprocess.run(command, shell=True, cwd=project, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [*shlex.split(serve), f"127.0.0.1:{port}"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_200(f"http://127.0.0.1:{port}/", server) == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert Path(project / "uv.lock").exists()
