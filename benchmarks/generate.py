"""Print how long generation takes, and how long from a fresh bake to a served page.

    uv run python benchmarks/generate.py [--runs 5]

1. Generation: the median wall time of several `cookiecutter . --no-input` runs, as a
   user types it (a new process each time), and of the same call made in-process
   (what is left once Python and cookiecutter are loaded).
2. First page: from a fresh bake to the first 200 from /healthz on SQLite, through the
   project's own commands (`uv sync`, `manage.py migrate`, gunicorn), with uv's cache
   warm (a first, unmeasured round warms it).
"""

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def bake_cli(out):
    command = [sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input", "-o", out]
    subprocess.run(command, check=True, capture_output=True)


def bake_in_process(out):
    return Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(out)))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_page(workdir):
    """Bake, install, migrate, serve; return the seconds each step took."""
    steps = {}
    steps["bake"], project = timed(lambda: bake_in_process(workdir))

    def run(*command):
        subprocess.run(command, cwd=project, check=True, capture_output=True)

    steps["uv sync"], _ = timed(lambda: run("uv", "sync", "--quiet"))
    steps["migrate"], _ = timed(lambda: run("uv", "run", "manage.py", "migrate", "--no-input"))
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        ["uv", "run", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("gunicorn exited before answering") from None
                time.sleep(0.01)
        steps["gunicorn to 200"] = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    steps["total"] = sum(steps.values())
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cli = [timed(lambda i=i: bake_cli(tmp / f"cli{i}"))[0] for i in range(runs)]
        api = [timed(lambda i=i: bake_in_process(tmp / f"api{i}"))[0] for i in range(runs)]
        print(f"Generation, median of {runs} (default answers):")
        print(f"  cookiecutter command, new process   {statistics.median(cli) * 1000:7.0f} ms")
        print(f"  cookiecutter() in process            {statistics.median(api) * 1000:7.0f} ms")

        first_page(tmp / "warm")  # fills uv's cache; not measured
        rounds = [first_page(tmp / f"page{i}") for i in range(3)]
        print("\nFresh bake to the first 200 from /healthz on SQLite, uv cache warm, median of 3:")
        for step in rounds[0]:
            median = statistics.median(r[step] for r in rounds)
            print(f"  {step:<36} {median * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
