"""Several gunicorn workers writing one SQLite file at once, through the admin."""

import http.client
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from http.cookies import SimpleCookie

import pytest

from ..support import PROJECT_DIR, Gunicorn

VISITORS = 12
GROUPS_EACH = 5

# One password hash for every account: hashing is slow on purpose, and its cost is
# paid once per sign-in below instead.
MAKE_STAFF = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
User = get_user_model()
password = make_password("sharing")
User.objects.bulk_create(
    User(username="staff" + str(n), password=password, is_staff=True, is_superuser=True)
    for n in range({VISITORS})
)
"""


@pytest.fixture
def site(tmp_path):
    """gunicorn with three workers on a migrated database file; yields the file and port."""
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    for args in (["migrate", "--no-input", "-v", "0"], ["shell", "-v", "0", "-c", MAKE_STAFF]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, check=True)
    with Gunicorn(log=tmp_path / "gunicorn.log", env=env) as server:
        yield database, server.port
    assert "database is locked" not in server.output()


class Visitor:
    """A browser of one: keeps its cookies, follows no redirect."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, fields=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "localhost"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            fields = {**fields, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
            body = "&".join(f"{k}={v}" for k, v in fields.items())
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location"), content

    def sign_in_and_add_groups(self, number):
        self.request("GET", "/admin/login/")
        fields = {"username": f"staff{number}", "password": "sharing", "next": "/admin/"}
        outcomes = [self.request("POST", "/admin/login/", fields)[:2]]
        for group in range(GROUPS_EACH):
            fields = {"name": f"group-{number}-{group}", "_save": "Save"}
            outcomes.append(self.request("POST", "/admin/auth/group/add/", fields)[:2])
        return outcomes


def test_three_workers_write_one_sqlite_file_at_once_and_lose_nothing(site):
    """Sign-ins write a session and last_login; each admin addition reads, then writes a
    group and a log entry in one transaction. All at once, from three workers."""
    database, port = site
    with ThreadPoolExecutor(VISITORS) as pool:
        outcomes = list(
            pool.map(lambda n: Visitor(port).sign_in_and_add_groups(n), range(VISITORS))
        )
    for signed_in, *added in outcomes:
        assert signed_in == (302, "/admin/"), signed_in
        assert added == [(302, "/admin/auth/group/")] * GROUPS_EACH, added
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM django_session").fetchone()[0] == VISITORS
        signed_in = db.execute("SELECT count(*) FROM users_user WHERE last_login IS NOT NULL")
        assert signed_in.fetchone()[0] == VISITORS
        groups = {name for (name,) in db.execute("SELECT name FROM auth_group")}
        assert groups == {f"group-{n}-{g}" for n in range(VISITORS) for g in range(GROUPS_EACH)}
        log_entries = db.execute("SELECT count(*) FROM django_admin_log").fetchone()[0]
        assert log_entries == VISITORS * GROUPS_EACH
