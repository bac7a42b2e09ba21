{%- set tree = cookiecutter.task_queue == "database" or cookiecutter.scheduler == "clock" -%}
"""`manage.py serve`: the site's processes as one command, on a real port and database."""
{%- if tree %}

import re
{%- endif %}
{%- if cookiecutter.database != "sqlite" %}

from django.db import connection
{%- endif %}

from ..support import wait_for


{%- if cookiecutter.database == "sqlite" %}


def fresh_database(tmp_path):
    """A database file that no migration has touched yet."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}


def test_serve_migrates_a_fresh_database_then_serves_until_sigterm(serve, tmp_path):
    server = serve(env=fresh_database(tmp_path))
    assert "migrate |   Applying auth.0001_initial... OK" in server.output()
{%- else %}


def test_serve_leaves_migrations_to_the_release_step(serve, live_database_url):
    server = serve(env={"DATABASE_URL": live_database_url})
    # On the server, release migrates; on a file (this suite run on SQLite), serve does.
    assert ("migrate |" in server.output()) == (connection.vendor == "sqlite")
{%- endif %}
    assert server.get("/").status == 200
{%- if cookiecutter.public_site_caching %}
    assert server.get("/").headers["X-Cache"] == "hit"
{%- endif %}
    assert server.stop(timeout=30) == 0
    wait_for(lambda: not server.left(), timeout=10, what="the whole tree to end")
{%- if tree %}
    # Every line names the part that wrote it (honcho's prefix, and serve's for migrate).
    for line in server.output().splitlines():
        assert re.match(r"\d\d:\d\d:\d\d (system|web|worker|clock|migrate) *\| ", line), line
{%- endif %}
