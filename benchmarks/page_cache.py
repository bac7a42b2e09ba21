"""Print the page cache's figures next to the issue's targets, on SQLite, PostgreSQL and MySQL.

    uv run --group bench python benchmarks/page_cache.py [--seconds 5] [--rounds 3]
        [--databases sqlite,postgresql,mysql]

Bakes a project with public_site_caching=yes (database=postgresql, which SQLite's rows
use too, and database=mysql for MySQL's), installs exactly its pins plus the template's
`bench` group (redis) into a virtual environment, and then, for each database, in rounds
that alternate what they compare (the machine's load drifts), printing every ratio as
min / median / max over the rounds:

1. Latency, in process, 1 KB values, median microseconds, each call timed as a request's
   first query pays it (after Django's per-request connection reset): the page cache's
   get and set (the cache API, pickled values) and its page path (lookup_page: the
   generation token and the page in one statement; store_page), against Django's
   RedisCache on the local Redis (127.0.0.1:6379, database 9, flushed first) and Django's
   stock DatabaseCache.
2. Write cost against table size: set() with 1,000 and with 100,000 rows in the table.
3. Throughput under gunicorn (2 sync workers, DEBUG off, 127.0.0.1 only) measured with
   wrk (8 connections): a 10 KB anonymous page that needs twelve queries, cached and
   uncached (the same server without the page cache middleware), and a static file of
   the same size served by WhiteNoise from the same process.
4. Writes/s of concurrent writing processes (--writers, each updating its own row in
   autocommit), with the page cache and without its app (no write watcher).
5. An admin save's latency (a page and its log entry in one transaction), alone and
   while wrk floods the server with misses on distinct URLs that the cache stores.

Needs wrk (Debian package `wrk`), PostgreSQL on 127.0.0.1:5432 (user postgres, trust
authentication), MariaDB or MySQL on 127.0.0.1:3306 (root, no password; the `mysql`
client) and Redis on 127.0.0.1:6379.
"""

import argparse
import contextlib
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
MYSQL = "mysql://root@127.0.0.1:3306"
DATABASES = ("sqlite", "postgresql", "mysql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL"}

BENCH_SETTINGS = '''
"""The project's settings, plus what the benchmark compares against."""
import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
WHITENOISE_ROOT = os.environ["BENCH_STATIC_ROOT"]
if os.environ.get("BENCH_NO_PAGE_CACHE"):
    MIDDLEWARE = [m for m in MIDDLEWARE if "pagecache" not in m]  # noqa: F405
if os.environ.get("BENCH_NO_PAGE_CACHE_APP"):  # no write watcher either
    INSTALLED_APPS = [a for a in INSTALLED_APPS if not a.endswith("pagecache")]  # noqa: F405
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


def any_path(request, rest):
    """A cacheable page at every path: what a flood of distinct URLs makes of a site."""
    return HttpResponse(f"<!doctype html><p>{{rest}}</p>" + "x" * 1000)


urlpatterns = [
    path("bench/twelve/", twelve),
    path("bench/any/<path:rest>", any_path),
    path("", include("config.urls")),
]
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
    # Each call as a request's first query pays it: after Django's per-request
    # connection reset (request_started), a call through connection.cursor() pays
    # CONN_HEALTH_CHECKS' SELECT 1 on a database server, as a request's first query does.
    times = []
    for key in keys:
        connection.close_if_unusable_or_obsolete()
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
            samples.setdefault(f"{name} {operation}", []).append(
                statistics.median(timings(lambda k: function(cache, k), keys)) / 1000
            )
out.update(samples)  # per round: the medians of that round
watched("pages")
assert page.get("key-0-0") == value and caches["redis"].get("key-0-0") == value
assert page.lookup_page("page:key-0-0")[1] == text

# Write cost against table size: rounds alternate between the sizes (the machine's
# noise drifts), each on a freshly filled table, vacuumed on PostgreSQL and with its
# statistics renewed on MySQL.
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
            elif connection.vendor == "mysql":
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE TABLE {table}")
                    cursor.fetchall()
            new_keys = [f"new-{n}" for n in range(min(ops, 1000))]
            figures.append(median_us(lambda k: cache.set(k, value), new_keys))
    for rows, figures in rounds.items():
        out[f"{name} set at {rows} rows"] = figures
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


WRITER = r"""
import sys, time
import django
django.setup()
from {slug}.pages.models import Page

page = Page.objects.get(slug=f"bench-{{sys.argv[1]}}")
seconds = float(sys.argv[2])
writes = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    Page.objects.filter(pk=page.pk).update(body=f"write {{writes}}")
    writes += 1
print(writes)
"""

SAVER = r"""
import json, statistics, sys, time
import django
django.setup()
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import transaction
from {slug}.pages.models import Page

user, _ = get_user_model().objects.get_or_create(username="bench-admin", is_staff=True)
page = Page.objects.get(slug="bench-0")
times = []
for n in range(int(sys.argv[1])):
    started = time.perf_counter()
    with transaction.atomic():  # what the admin's change view commits
        page.body = f"saved {{n}}"
        page.save()
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=[page], action_flag=CHANGE, single_object=True
        )
    times.append((time.perf_counter() - started) * 1000)
    time.sleep(0.02)
print(json.dumps(times))
"""

FLOOD_SCRIPT = """
counter = 0
request = function()
    counter = counter + 1
    return wrk.format("GET", "/bench/any/" .. math.random(1, 1000000000) .. "-" .. counter)
end
"""


def spread(values):
    """min / median / max, the form every ratio is printed in."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bake_and_install(workdir, database):
    workdir.mkdir()
    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(workdir),
            extra_context={"public_site_caching": True, "database": database},
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
    rounds (the machine's load drifts); each ratio is taken within a round."""
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
    return {**rounds, "page size": size}


def write_throughput(project, python, database_url, static, args):
    """Writes/s of args.writers processes, each updating its own page in autocommit, with
    the page cache's write watcher and without the page cache app; rounds alternate."""
    script = WRITER.format(slug=project.name)
    rounds = {"with the cache": [], "without": []}
    for _ in range(args.rounds):
        for label, extra in (("with the cache", {}), ("without", {"BENCH_NO_PAGE_CACHE_APP": "1"})):
            env = environment(database_url, static, **extra)
            writers = [
                subprocess.Popen(
                    [str(python), "-c", script, str(n), str(args.write_seconds)],
                    cwd=project,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for n in range(args.writers)
            ]
            total = sum(int(writer.communicate()[0]) for writer in writers)
            rounds[label].append(total / args.write_seconds)
    return rounds


def save_under_flood(project, python, database_url, static, args):
    """An admin save's latency (ms), alone and while wrk floods the site with misses on
    distinct URLs, each a page the cache stores."""
    env = environment(database_url, static)
    saver = [str(python), "-c", SAVER.format(slug=project.name), str(args.saves)]
    quiet = json.loads(run(saver, cwd=project, env=env).stdout)
    server, base = serve(project, python, env)
    lua = project / "flood.lua"
    lua.write_text(FLOOD_SCRIPT)
    try:
        seconds = max(5, args.saves // 20)
        flood = subprocess.Popen(
            ["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(lua), f"{base}/"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)
        flooded = json.loads(run(saver, cwd=project, env=env).stdout)
        out = flood.communicate()[0]
    finally:
        server.terminate()
        server.wait()
    misses = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return quiet, flooded, misses


def measure(project, python, static, database_url, args):
    env = environment(database_url, static)
    run([str(python), "manage.py", "migrate", "--no-input", "-v", "0"], cwd=project, env=env)
    run([str(python), "-c", SETUP_DATA.format(slug=project.name)], cwd=project, env=env)
    latency = json.loads(
        run([str(python), "-c", LATENCY, str(args.ops)], cwd=project, env=env).stdout
    )
    pages = throughput(project, python, database_url, static, args.seconds, args.rounds)
    writes = write_throughput(project, python, database_url, static, args)
    flood = save_under_flood(project, python, database_url, static, args)
    return latency, pages, writes, flood


def report(name, latency, pages, writes, flood):
    get_target, set_target = (1.0, 1.5) if name == "SQLite" else (1.2, 1.5)
    share_target = 0.70 if name == "SQLite" else 0.45  # a server's round trip per hit
    median = statistics.median
    print(f"\n## {name}\n")
    print(
        "Each call timed as a request's first query: after Django's per-request connection"
        " reset, so set() and the stock cache pay CONN_HEALTH_CHECKS' SELECT 1 on a"
        " database server; get() and lookup_page() (a hit's one read) skip it."
    )
    print("\n| cache operation, 1 KB | median µs | vs RedisCache, min / median / max | target |")
    print("|---|---|---|---|")
    rows = [
        ("page cache get()", "pages get", "redis get", f"<= {get_target}x"),
        ("page cache lookup_page() (a hit's one read)", "pages lookup_page", "redis get",
         f"<= {get_target}x"),
        ("RedisCache get()", "redis get", "redis get", ""),
        ("stock DatabaseCache get()", "stock get", "redis get", ""),
        ("page cache set()", "pages set", "redis set", f"<= {set_target}x"),
        ("page cache store_page() (a miss's one write)", "pages store_page", "redis set",
         f"<= {set_target}x"),
        ("RedisCache set()", "redis set", "redis set", ""),
        ("stock DatabaseCache set()", "stock set", "redis set", ""),
    ]  # fmt: skip
    for label, key, base, target in rows:
        ratios = [v / b for v, b in zip(latency[key], latency[base], strict=True)]
        print(f"| {label} | {median(latency[key]):.0f} | {spread(ratios)} | {target} |")
    print(
        "\n| set() with rows in the table | 1,000 rows µs | 100,000 rows µs"
        " | ratio, min / median / max | target |"
    )
    print("|---|---|---|---|---|")
    for cache, label, target in (("pages", "page cache", "<= 1.5"), ("stock", "stock", "")):
        small, large = latency[f"{cache} set at 1000 rows"], latency[f"{cache} set at 100000 rows"]
        ratios = [b / a for a, b in zip(small, large, strict=True)]
        figures = f"{median(small):.0f} | {median(large):.0f} | {spread(ratios)}"
        print(f"| {label} | {figures} | {target} |")
    ceiling = median(pages["static file"])
    print(
        f"\n| served by gunicorn, {pages['page size']} B | median req/s"
        " | share of static, min / median / max | target |"
    )
    print("|---|---|---|---|")
    print(f"| static file (the ceiling) | {ceiling:.0f} | 1.00 | |")
    for label, target in (("page, cached", f">= {share_target}"), ("page, uncached", "")):
        shares = [p / c for p, c in zip(pages[label], pages["static file"], strict=True)]
        figures = f"{median(pages[label]):.0f} | {spread(shares)}"
        print(f"| twelve-query {label} | {figures} | {target} |")
    speed_ups = [c / u for c, u in zip(pages["page, cached"], pages["page, uncached"], strict=True)]
    print(f"\ncached / uncached, min / median / max: {spread(speed_ups)} (target >= 7x)")
    with_cache, without = writes["with the cache"], writes["without"]
    ratios = [w / o for w, o in zip(with_cache, without, strict=True)]
    print(
        "\n| concurrent writers, autocommit updates"
        " | median writes/s | ratio, min / median / max | target |"
    )
    print("|---|---|---|---|")
    print(f"| without the page cache app | {median(without):.0f} | 1.00 | |")
    print(f"| with the page cache | {median(with_cache):.0f} | {spread(ratios)} | >= 0.8 |")
    quiet, flooded, misses = flood
    print(
        f"\nAn admin save (page + log entry, one transaction), ms, during a flood of {misses:.0f}"
        " misses/s on distinct URLs:"
    )
    print("\n| | median | 95th percentile | max |")
    print("|---|---|---|---|")
    for label, times in (("alone", quiet), ("during the flood", flooded)):
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"| {label} | {median(times):.1f} | {p95:.1f} | {max(times):.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each figure (>= 3)")
    parser.add_argument("--ops", type=int, default=2000, help="operations per latency figure")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writing processes")
    parser.add_argument("--write-seconds", type=float, default=3, help="length of a write round")
    parser.add_argument("--saves", type=int, default=100, help="admin saves timed per figure")
    parser.add_argument("--databases", default=",".join(DATABASES), help="a comma list")
    args = parser.parse_args()
    databases = [d for d in DATABASES if d in args.databases.split(",")]
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for database in databases:
            # SQLite runs in the PostgreSQL project, as a developer's laptop would.
            baked = "mysql" if database == "mysql" else "postgresql"
            project, python, static = bake_and_install(workdir / database, baked)
            with fresh_database(database, workdir / database) as url:
                report(NAMES[database], *measure(project, python, static, url, args))


@contextlib.contextmanager
def fresh_database(database, directory):
    """A URL to an empty database of this kind, dropped afterwards."""
    if database == "sqlite":
        yield f"sqlite:///{directory / 'bench.sqlite3'}"
        return
    name = f"fewparts_bench_{secrets.token_hex(4)}"
    if database == "postgresql":
        run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name])
        try:
            yield f"{POSTGRES}/{name}"
        finally:
            run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name])
        return
    mysql = ["mysql", "-h", "127.0.0.1", "-u", "root", "-e"]
    run([*mysql, f"CREATE DATABASE {name} CHARACTER SET utf8mb4"])
    try:
        yield f"{MYSQL}/{name}"
    finally:
        run([*mysql, f"DROP DATABASE {name}"])


if __name__ == "__main__":
    main()
