"""Print the page cache's figures next to the issue's targets, on SQLite and PostgreSQL.

    uv run python benchmarks/page_cache.py [--seconds 5] [--runs 3]

Bakes a project with public_site_caching=yes, installs exactly its pins plus the
template's `bench` group (redis) into a virtual environment, and then, for each database:

1. Latency, in process, 1 KB values, median microseconds: the page cache's get and set
   (the cache API, pickled values) and its page path (lookup_page: the generation token
   and the page in one statement; store_page), against Django's RedisCache on the local
   Redis (127.0.0.1:6379, database 9, flushed first) and Django's stock DatabaseCache.
2. Write cost against table size: set() with 1,000 and with 100,000 rows in the table
   (median of three alternating rounds).
3. Throughput under gunicorn (2 sync workers, DEBUG off, 127.0.0.1 only) measured with
   wrk (8 connections), median of the runs: a 10 KB anonymous page that needs twelve
   queries, cached and uncached (the same server without the page cache middleware),
   and a static file of the same size served by WhiteNoise from the same process.

Needs wrk (Debian package `wrk`), PostgreSQL on 127.0.0.1:5432 (user postgres, trust
authentication) and Redis on 127.0.0.1:6379.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432"

BENCH_SETTINGS = '''
"""The project's settings, plus what the benchmark compares against."""
import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
WHITENOISE_ROOT = os.environ["BENCH_STATIC_ROOT"]
if os.environ.get("BENCH_NO_PAGE_CACHE"):
    MIDDLEWARE = [m for m in MIDDLEWARE if "pagecache" not in m]  # noqa: F405
CACHES["redis"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:6379/9",
}
CACHES["stock"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "stock_cache",
    "OPTIONS": {"MAX_ENTRIES": 10**7},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
'''

BENCH_URLS = '''
"""A page that needs twelve queries, served at /bench/twelve/."""
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from {slug}.pages.models import Page

TEMPLATE = engines["django"].from_string(
    "<!doctype html><html><head><title>Twelve</title></head><body>"
    "{{% for page in pages %}}<h2>{{{{ page.title }}}}</h2>{{{{ page.body|linebreaks }}}}"
    "{{% endfor %}}</body></html>"
)


def twelve(request):
    pages = [Page.objects.get(slug=f"bench-{{n}}") for n in range(12)]
    return HttpResponse(TEMPLATE.render({{"pages": pages}}, request))


urlpatterns = [path("bench/twelve/", twelve), path("", include("config.urls"))]
'''

LATENCY = r"""
import json, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction

call_command("createcachetable", "stock_cache", verbosity=0)
ops = int(sys.argv[1])
value = "v" * 1000
page = caches[settings.PAGE_CACHE_ALIAS]
out = {}


def timings(function, keys):
    times = []
    for key in keys:
        started = time.perf_counter_ns()
        function(key)
        times.append(time.perf_counter_ns() - started)
    return times


def median_us(function, keys):
    return statistics.median(timings(function, keys)) / 1000


connection.ensure_connection()
page_cache_wrappers = list(connection.execute_wrappers)
for name in ("pages", "redis", "stock"):
    caches[name].clear()
token = page.lookup_page("page:x")[0]
text = token + "\n[]\n" + value


def watched(name):
    # The stock cache's table is not one the page cache ignores: measure it as it is
    # in a project without the page cache, with no write watcher.
    connection.execute_wrappers = [] if name == "stock" else list(page_cache_wrappers)


operations = {
    "set": lambda cache, k: cache.set(k, value),
    "get": lambda cache, k: cache.get(k),
    "store_page": lambda cache, k: cache.store_page("page:" + k, text, 600),
    "lookup_page": lambda cache, k: cache.lookup_page("page:" + k),
}
samples = {}
# Five rounds, each running every operation of every cache on its own slice of keys,
# so that the machine's drifting load weighs on all of them alike.
for round_ in range(5):
    keys = [f"key-{round_}-{n}" for n in range(ops // 5)]
    for operation, function in operations.items():
        for name in ("pages", "redis", "stock"):
            if operation.endswith("_page") and name != "pages":
                continue
            watched(name)
            cache = caches[name]
            samples.setdefault(f"{name} {operation}", []).extend(
                timings(lambda k: function(cache, k), keys)
            )
for label, times in samples.items():
    out[label] = statistics.median(times) / 1000
watched("pages")
assert page.get("key-0-0") == value and caches["redis"].get("key-0-0") == value
assert page.lookup_page("page:key-0-0")[1] == text

# Write cost against table size: rounds alternate between the sizes (the machine's
# noise drifts), each on a freshly filled and, on PostgreSQL, vacuumed table.
for name in ("pages", "stock"):
    watched(name)
    cache = caches[name]
    table = connection.ops.quote_name(cache._table)
    rounds = {1_000: [], 100_000: []}
    for _ in range(3):
        for rows, figures in rounds.items():
            cache.clear()
            filler = [(f"fill-{n}", value, "9999-12-31 00:00:00") for n in range(rows)]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s)",
                    filler,
                )
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"VACUUM ANALYZE {table}")
            new_keys = [f"new-{n}" for n in range(min(ops, 1000))]
            figures.append(median_us(lambda k: cache.set(k, value), new_keys))
    for rows, figures in rounds.items():
        out[f"{name} set at {rows} rows"] = statistics.median(figures)
    cache.clear()
print(json.dumps(out))
"""

SETUP_DATA = r"""
import django
django.setup()
from {slug}.pages.models import Page
Page.objects.all().delete()
Page.objects.bulk_create(
    Page(title=f"Page {{n}}", slug=f"bench-{{n}}", body=("Some words of page %d. " % n) * 36)
    for n in range(12)
)
"""


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bake_and_install(workdir):
    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(workdir),
            extra_context={"public_site_caching": True, "database": "postgresql"},
        )
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    template = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text())
    requirements = pyproject["project"]["dependencies"] + template["dependency-groups"]["bench"]
    venv = workdir / "venv"
    python = (project / ".python-version").read_text().strip()
    run(["uv", "venv", "--quiet", "--python", python, str(venv)])
    run(
        ["uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *requirements]
    )
    slug = project.name
    (project / "bench_settings.py").write_text(BENCH_SETTINGS)
    (project / "bench_urls.py").write_text(BENCH_URLS.format(slug=slug))
    static = workdir / "static"
    static.mkdir()
    return project, venv / "bin" / "python", static


def environment(database_url, static, **extra):
    clean = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BENCH_STATIC_ROOT": str(static),
        **extra,
    }


def wrk(url, seconds):
    output = run(["wrk", "-t2", "-c8", f"-d{seconds}s", url]).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{url} answered errors:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def serve(project, python, env):
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)
    return server, f"http://127.0.0.1:{port}"


def x_cache(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["X-Cache"], len(response.read())


def throughput(project, python, database_url, static, seconds, runs):
    """req/s of the static file, the cached page and the uncached page, in alternating
    rounds (the machine's load drifts); ratios are the medians of each round's ratio."""
    server, base = serve(project, python, environment(database_url, static))
    try:
        x_cache(f"{base}/bench/twelve/")
        header, size = x_cache(f"{base}/bench/twelve/")
        assert header == "hit", f"the page was not served from the cache: {header}"
    finally:
        server.terminate()
        server.wait()
    (static / "ten.html").write_bytes(b"x" * size)  # WhiteNoise reads files at start

    cached, cached_base = serve(project, python, environment(database_url, static))
    plain_env = environment(database_url, static, BENCH_NO_PAGE_CACHE="1")
    plain, plain_base = serve(project, python, plain_env)
    targets = {
        "static file": f"{cached_base}/ten.html",
        "page, cached": f"{cached_base}/bench/twelve/",
        "page, uncached": f"{plain_base}/bench/twelve/",
    }
    try:
        for url in targets.values():
            wrk(url, 1)  # warm up
        rounds = {label: [] for label in targets}
        for _ in range(runs):
            for label, url in targets.items():
                rounds[label].append(wrk(url, seconds))
    finally:
        for server in (cached, plain):
            server.terminate()
            server.wait()
    figures = {label: statistics.median(values) for label, values in rounds.items()}
    figures["share"] = statistics.median(
        c / s for c, s in zip(rounds["page, cached"], rounds["static file"], strict=True)
    )
    figures["speed-up"] = statistics.median(
        c / u for c, u in zip(rounds["page, cached"], rounds["page, uncached"], strict=True)
    )
    figures["page size"] = size
    return figures


def measure(project, python, static, database_url, args):
    env = environment(database_url, static)
    run([str(python), "manage.py", "migrate", "--no-input", "-v", "0"], cwd=project, env=env)
    run([str(python), "-c", SETUP_DATA.format(slug=project.name)], cwd=project, env=env)
    latency = json.loads(
        run([str(python), "-c", LATENCY, str(args.ops)], cwd=project, env=env).stdout
    )
    pages = throughput(project, python, database_url, static, args.seconds, args.runs)
    return latency, pages


def report(name, latency, pages):
    redis_get, redis_set = latency["redis get"], latency["redis set"]
    get_target, set_target = (1.0, 1.5) if name == "SQLite" else (1.2, 1.5)
    share_target = 0.70 if name == "SQLite" else 0.45
    print(f"\n## {name}\n")
    print("| cache operation, 1 KB | median µs | vs RedisCache | target |")
    print("|---|---|---|---|")
    rows = [
        ("page cache get()", latency["pages get"], redis_get, f"<= {get_target}x"),
        (
            "page cache lookup_page() (a hit's one read)",
            latency["pages lookup_page"],
            redis_get,
            f"<= {get_target}x",
        ),
        ("RedisCache get()", redis_get, redis_get, ""),
        ("stock DatabaseCache get()", latency["stock get"], redis_get, ""),
        ("page cache set()", latency["pages set"], redis_set, f"<= {set_target}x"),
        (
            "page cache store_page() (a miss's one write)",
            latency["pages store_page"],
            redis_set,
            f"<= {set_target}x",
        ),
        ("RedisCache set()", redis_set, redis_set, ""),
        ("stock DatabaseCache set()", latency["stock set"], redis_set, ""),
    ]
    for label, value, base, target in rows:
        print(f"| {label} | {value:.0f} | {value / base:.2f}x | {target} |")
    print("\n| set() with rows in the table | 1,000 rows µs | 100,000 rows µs | ratio | target |")
    print("|---|---|---|---|---|")
    for cache, label, target in (("pages", "page cache", "<= 1.5"), ("stock", "stock", "")):
        small, large = latency[f"{cache} set at 1000 rows"], latency[f"{cache} set at 100000 rows"]
        print(f"| {label} | {small:.0f} | {large:.0f} | {large / small:.2f} | {target} |")
    ceiling = pages["static file"]
    print(f"\n| served by gunicorn, {pages['page size']} B | req/s | share of static | target |")
    print("|---|---|---|---|")
    print(f"| static file (the ceiling) | {ceiling:.0f} | 1.00 | |")
    print(
        f"| twelve-query page, cached | {pages['page, cached']:.0f} | "
        f"{pages['share']:.2f} | >= {share_target} |"
    )
    print(
        f"| twelve-query page, uncached | {pages['page, uncached']:.0f} | "
        f"{pages['page, uncached'] / ceiling:.2f} | |"
    )
    print(f"\ncached / uncached: {pages['speed-up']:.1f}x (target >= 7x)")
    print("(shares and speed-up: medians of each round's ratio; req/s: medians)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per figure (median)")
    parser.add_argument("--ops", type=int, default=2000, help="operations per latency figure")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        project, python, static = bake_and_install(workdir)
        database = f"fewparts_bench_{secrets.token_hex(4)}"
        run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database])
        try:
            for name, url in (
                ("SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}"),
                ("PostgreSQL", f"{POSTGRES}/{database}"),
            ):
                latency, pages = measure(project, python, static, url, args)
                report(name, latency, pages)
        finally:
            run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", database])


if __name__ == "__main__":
    main()
