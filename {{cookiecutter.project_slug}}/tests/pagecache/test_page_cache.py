"""The page cache: hits and misses, what is never cached, and invalidation by any write."""

import http.client
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils.csp import CSP
from django.utils.timezone import now
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.vary import vary_on_cookie

{% if cookiecutter.database == "mysql" -%}
from {{ cookiecutter.project_slug }}.pagecache.invalidation import changes_content
{% endif -%}
from {{ cookiecutter.project_slug }}.pagecache.models import CacheEntry, Generation
from {{ cookiecutter.project_slug }}.pages.models import Page

from ..support import PROJECT_DIR, Gunicorn

HTML = "<!doctype html><p>{}</p>"


# Views whose responses must never be cached, served only by this module's URLs.


def sets_a_cookie(request):
    response = HttpResponse(HTML.format("cookie"))
    response.set_cookie("flavour", "oat")
    return response


@cache_control(private=True)
def private(request):
    return HttpResponse(HTML.format("private"))


@cache_control(no_store=True)
def no_store(request):
    return HttpResponse(HTML.format("no-store"))


@never_cache
def never(request):
    return HttpResponse(HTML.format("never"))


def with_csrf_token(request):
    return HttpResponse(HTML.format(get_token(request)))


def json_view(request):
    return JsonResponse({"json": True})


def sets_a_raw_cookie_header(request):
    """A cookie set without response.cookies: replayed, it would fix every visitor's session."""
    response = HttpResponse(HTML.format("raw cookie"))
    response.headers["Set-Cookie"] = "sessionid=fixed; Path=/"
    return response


@vary_on_cookie
def greets_by_cookie(request):
    return HttpResponse(HTML.format("Hello " + request.COOKIES.get("name", "stranger")))


def empty_for_head(request):
    """Django's documented pattern: HEAD answered without the work of a body."""
    return HttpResponse("" if request.method == "HEAD" else HTML.format("full body"))


def with_csp_nonce(request):
    return HttpResponse(HTML.format(f'<script nonce="{get_nonce(request)}"></script>'))


def any_path(request, rest):
    return HttpResponse(HTML.format(rest))


def reads_then_someone_edits(request, slug):
    """Render data read before a concurrent edit commits: the stale page of the issue."""
    page = get_object_or_404(Page, slug=slug)
    Page.objects.filter(pk=page.pk).update(body="edited meanwhile")
    return HttpResponse(HTML.format(page.body))


urlpatterns = [
    path("", include("config.urls")),
    path("t/cookie/", sets_a_cookie),
    path("t/private/", private),
    path("t/no-store/", no_store),
    path("t/never/", never),
    path("t/csrf/", with_csrf_token),
    path("t/json/", json_view),
    path("t/race/<slug:slug>/", reads_then_someone_edits),
    path("t/raw-cookie/", sets_a_raw_cookie_header),
    path("t/greet/", greets_by_cookie),
    path("t/head/", empty_for_head),
    path("t/csp/", with_csp_nonce),
    path("t/any/<path:rest>", any_path),
]


# The project's own URLs without the admin's, which an owner may remove.
class WithoutAdmin:
    urlpatterns = (path("pages/", include("{{ cookiecutter.project_slug }}.pages.urls")),)


pytestmark = pytest.mark.urls(__name__)


def get(client, url="/pages/hello/", **extra):
    return client.get(url, **extra)


def cached(client, url="/pages/hello/"):
    """Request twice; whether the second answer came from the cache."""
    get(client, url)
    return get(client, url)["X-Cache"] == "hit"


# Hits and misses


def test_a_page_is_a_miss_then_a_hit_with_the_same_content(client, page):
    first, second = get(client), get(client)
    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert second.status_code == 200
    assert second.content == first.content
    assert b"first version" in second.content
    assert second["Content-Type"] == first["Content-Type"]


def test_head_is_served_from_the_cache_apart_from_get(client, page):
    get(client)
    assert client.head("/pages/hello/")["X-Cache"] == "miss"
    assert client.head("/pages/hello/")["X-Cache"] == "hit"


def test_the_list_of_pages_is_cached_too(client, page):
    assert cached(client, "/pages/")
    assert b"Hello" in get(client, "/pages/").content


def test_a_hit_is_one_query(client, page):
    get(client)
    with CaptureQueriesContext(connection) as queries:
        assert get(client)["X-Cache"] == "hit"
    assert len(queries) == 1


def a_hit(client):
    return get(client)["X-Cache"] == "hit"


def a_cache_get(client):
    return caches[settings.PAGE_CACHE_ALIAS].get("kept") == "value"


# The cache's two reads: a visitor's hit (lookup_page) and the cache API's get().
READS = [pytest.param(a_hit, id="hit"), pytest.param(a_cache_get, id="get")]


@pytest.mark.parametrize("read", READS)
@pytest.mark.django_db(transaction=True)  # outside a transaction, as requests are served
def test_a_read_makes_no_health_check_before_its_one_query(client, page, monkeypatch, read):
    get(client)
    caches[settings.PAGE_CACHE_ALIAS].set("kept", "value")
    checks = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or is_usable())
    connection.close_if_unusable_or_obsolete()  # what each request starts with
    assert read(client)
    assert checks == [], "a health check (a SELECT 1 on a database server) came first"
{%- if cookiecutter.database != "sqlite" %}


# The server's id of a session, how another session ends it, and whether it is still there.
{%- if cookiecutter.database == "postgresql" %}
SESSION_ID = "SELECT pg_backend_pid()"
END_SESSION = "SELECT pg_terminate_backend(%s)"
SESSION_LIVES = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
{%- else %}
SESSION_ID = "SELECT CONNECTION_ID()"
END_SESSION = "KILL %s"
SESSION_LIVES = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s"
{%- endif %}


@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs a database server")
@pytest.mark.parametrize("read", READS)
@pytest.mark.django_db(transaction=True)
def test_a_read_survives_a_connection_the_server_ended(client, page, read):
    get(client)
    caches[settings.PAGE_CACHE_ALIAS].set("kept", "value")
    with connection.cursor() as cursor:
        cursor.execute(SESSION_ID)
        (pid,) = cursor.fetchone()
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute(END_SESSION, [pid])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the session has gone
                cursor.execute(SESSION_LIVES, [pid])
                if cursor.fetchone() == (0,):
                    break
                time.sleep(0.01)
    finally:
        other.close()
    assert read(client)
{%- endif %}


def test_every_response_but_static_files_and_the_https_redirect_says_hit_or_miss(
    client, db, settings
):
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True
    static = get(client, "/static/core/site.css")
    assert static.status_code == 200
    assert "X-Cache" not in static  # WhiteNoise answers before the cache
    settings.SECURE_SSL_REDIRECT = True
    redirect = get(client.__class__())
    assert redirect.status_code == 301
    assert "X-Cache" not in redirect  # and so does SecurityMiddleware's redirect
    settings.SECURE_SSL_REDIRECT = False
    responses = [
        get(client, "/"),
        get(client, "/healthz"),
        get(client, "/nowhere/"),
        get(client, "/pages/?page=2"),
        get(client, "/admin/"),
        client.post("/pages/"),
        client.options("/pages/"),
    ]
    assert [response["X-Cache"] in {"hit", "miss"} for response in responses] == [True] * 7


# Bounded: however many URLs arrive


def test_the_cache_holds_at_most_max_entries_pages_however_many_urls_arrive(client, db, settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {**settings.CACHES["pages"], "OPTIONS": {"MAX_ENTRIES": 20}},
    }
    for n in range(200):
        assert get(client, f"/t/any/{n}")["X-Cache"] == "miss"
    assert 10 <= CacheEntry.objects.count() <= 20
    assert cached(client, "/t/any/last")  # a page still finds its slot


@pytest.mark.parametrize(
    ("host", "secure"),
    [("LocalHost", False), ("localhost:80", False), ("localhost:443", True)],
)
def test_host_case_and_default_ports_share_one_entry(client, page, host, secure):
    get(client, HTTP_HOST="localhost", secure=secure)
    assert get(client, HTTP_HOST=host, secure=secure)["X-Cache"] == "hit"
    assert CacheEntry.objects.count() == 1


def test_a_url_with_a_query_string_neither_reads_nor_fills_the_cache(client, page):
    assert not cached(client, "/pages/hello/?utm_source=x")
    assert not cached(client, "/pages/hello/?page=2")
    assert not CacheEntry.objects.exists()


# Private: nothing one visitor sees because of who they are reaches another


def test_a_page_built_from_a_cookie_is_never_served_to_another_visitor(client, db):
    client.cookies["name"] = "Alice"
    assert b"Hello Alice" in get(client, "/t/greet/").content
    assert b"Hello Alice" in get(client, "/t/greet/").content
    stranger = get(client.__class__(), "/t/greet/")
    assert b"Hello stranger" in stranger.content
    assert not CacheEntry.objects.filter(value__contains="Alice").exists()


def test_cookies_named_in_the_setting_keep_the_cached_page(client, page, settings):
    settings.PAGE_CACHE_IGNORED_COOKIES = [*settings.PAGE_CACHE_IGNORED_COOKIES, "_ga"]
    get(client.__class__())
    client.cookies["_ga"] = "GA1.1.123"
    client.cookies["csrftoken"] = "x" * 32
    assert get(client)["X-Cache"] == "hit"
    client.cookies["consent"] = "no"
    assert get(client)["X-Cache"] == "miss"


def test_head_and_get_keep_separate_entries(client, db):
    assert client.head("/t/head/").content == b""
    assert client.head("/t/head/")["X-Cache"] == "hit"
    response = get(client, "/t/head/")
    assert (response["X-Cache"], b"full body" in response.content) == ("miss", True)
    assert b"full body" in get(client, "/t/head/").content


def test_a_page_with_a_csp_nonce_is_never_cached(client, db, settings):
    settings.MIDDLEWARE = [
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
        *settings.MIDDLEWARE,
    ]
    settings.SECURE_CSP = {"script-src": [CSP.NONCE]}
    first, second = get(client, "/t/csp/"), get(client, "/t/csp/")
    assert "nonce-" in first["Content-Security-Policy"]
    assert second["X-Cache"] == "miss"
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]
    assert not CacheEntry.objects.exists()


def test_a_project_without_the_admin_s_urls_still_caches(client, page, settings):
    settings.ROOT_URLCONF = WithoutAdmin
    assert get(client).status_code == 200
    assert get(client)["X-Cache"] == "hit"


def test_other_cached_values_are_kept_apart(db):
    caches["default"].set("elsewhere", 1)
    caches[settings.PAGE_CACHE_ALIAS].clear()
    assert caches["default"].get("elsewhere") == 1


# Never cached, never served from the cache


@pytest.mark.parametrize(
    "url",
    [
        "/t/cookie/",
        "/t/private/",
        "/t/no-store/",
        "/t/never/",
        "/t/json/",
        "/t/raw-cookie/",
        "/pages/missing/",
        "/admin/login/",
    ],
)
def test_responses_that_are_not_public_html_are_never_cached(client, db, url):
    assert not cached(client, url)
    assert not CacheEntry.objects.exists()


def test_a_page_with_a_visitor_s_csrf_token_is_never_cached(client, db):
    client.cookies["csrftoken"] = "x" * 32
    assert not cached(client, "/t/csrf/")


def test_other_methods_are_never_answered_from_the_cache(client, page):
    get(client)
    assert client.post("/pages/hello/")["X-Cache"] == "miss"
    assert client.options("/pages/hello/")["X-Cache"] == "miss"


def test_a_signed_in_user_neither_reads_nor_fills_the_cache(client, page):
    user = get_user_model().objects.create_user(username="ada", password="a long passphrase")
    client.force_login(user)
    assert not cached(client)
    assert not CacheEntry.objects.exists()
    # An anonymous visitor fills the cache; the signed-in user still never gets that copy.
    get(client.__class__())
    assert get(client)["X-Cache"] == "miss"


def test_a_request_carrying_a_session_is_never_answered_from_the_cache(client, page):
    get(client)
    client.cookies[settings.SESSION_COOKIE_NAME] = "whatever"
    assert get(client)["X-Cache"] == "miss"


def test_a_request_with_credentials_is_never_answered_from_the_cache(client, page):
    get(client)
    assert get(client, HTTP_AUTHORIZATION="Basic YTpi")["X-Cache"] == "miss"


def test_a_page_is_not_stored_from_one_host_for_another(client, page):
    get(client, HTTP_HOST="localhost")
    assert get(client, HTTP_HOST="127.0.0.1")["X-Cache"] == "miss"


# Invalidation: any committed write, however made


def test_an_edit_shows_on_the_next_request(client, page):
    assert cached(client)
    page.body = "second version"
    page.save()
    response = get(client)
    assert response["X-Cache"] == "miss"
    assert b"second version" in response.content


def edit_save(page):
    page.body = "second version"
    page.save()


def edit_delete(page):
    page.delete()


def edit_update(page):
    Page.objects.filter(pk=page.pk).update(body="second version")


def edit_bulk_create(page):
    Page.objects.bulk_create([Page(title="Other", slug="other")])


def edit_bulk_update(page):
    page.body = "second version"
    Page.objects.bulk_update([page], ["body"])


def edit_queryset_delete(page):
    Page.objects.filter(pk=page.pk).delete()


def edit_raw_sql(page):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pages_page SET body = %s", ["second version"])


@pytest.mark.parametrize(
    "edit",
    [
        edit_save,
        edit_delete,
        edit_update,
        edit_bulk_create,
        edit_bulk_update,
        edit_queryset_delete,
        edit_raw_sql,
    ],
)
def test_any_write_wipes_the_cached_pages(client, page, edit):
    assert cached(client)
    edit(page)
    assert get(client)["X-Cache"] == "miss"


# Raw SQL that changes content in shapes a reader of the first word alone misses.
HIDDEN_WRITES = {
    "block comment first": "/* edit */ UPDATE pages_page SET body = 'x'",
    "line comment first": "-- edit\nUPDATE pages_page SET body = 'x'",
    "lower case": "update pages_page set body = 'x'",
    "with ... update": (
        "WITH p AS (SELECT id FROM pages_page) UPDATE pages_page SET body = 'x'"
        " WHERE id IN (SELECT id FROM p)"
    ),
    "last_login from a subquery, and first_name": (
        "UPDATE users_user SET last_login = (SELECT MAX(last_login) FROM users_user"
        " WHERE id = 0), first_name = 'Eve'"
    ),
}
# Statements that provably change nothing pages show: they keep the cache.
HARMLESS = {
    "last_login from a subquery": (
        "UPDATE users_user SET last_login = (SELECT MAX(last_login) FROM users_user)"
    ),
    "a commented read": "/* UPDATE pages_page */ SELECT 'UPDATE pages_page SET x = 1'",
    "with ... select": "WITH p AS (SELECT id FROM pages_page) SELECT * FROM p",
    "union of reads": "SELECT 1 UNION SELECT 2",
}
{%- if cookiecutter.database == "postgresql" %}
if connection.vendor == "postgresql":  # statements SQLite does not have
    HIDDEN_WRITES |= {
        "merge": (
            "MERGE INTO pages_page p USING (SELECT 1 AS one) s ON true"
            " WHEN MATCHED THEN UPDATE SET body = 'x'"
        ),
        "truncate": "TRUNCATE pages_page",
        "a read, then a write": "SELECT 1; UPDATE pages_page SET body = 'x'",
        "an escaped quote, then a write": "SELECT E'it\\'s'; UPDATE pages_page SET body = 'x'",
    }
    HARMLESS |= {"a locking read": "SELECT id FROM pages_page FOR UPDATE"}
{%- elif cookiecutter.database == "mysql" %}
if connection.vendor == "mysql":  # statements and spellings SQLite does not have
    # MariaDB has no WITH before UPDATE (it is read, not run, below), and neither reads
    # the table an UPDATE writes but through a derived table that cannot be merged.
    del HIDDEN_WRITES["with ... update"]
    HIDDEN_WRITES["last_login from a subquery, and first_name"] = (
        "UPDATE users_user SET last_login = (SELECT latest"
        " FROM (SELECT MAX(last_login) AS latest FROM users_user) AS u WHERE 0),"
        " first_name = 'Eve'"
    )
    HARMLESS["last_login from a subquery"] = (
        "UPDATE users_user SET last_login = (SELECT latest"
        " FROM (SELECT MAX(last_login) AS latest FROM users_user) AS u)"
    )
    HIDDEN_WRITES |= {
        "backtick names": "UPDATE `pages_page` SET `body` = 'x'",
        "replace": "REPLACE INTO pages_page (id, title, slug, body) SELECT id, 'T', slug, 'x'"
        " FROM pages_page",
        "replace without into": (
            "REPLACE pages_page (id, title, slug, body) SELECT id, 'T', slug, 'x' FROM pages_page"
        ),
        "insert ignore": "INSERT IGNORE INTO pages_page (title, slug, body) VALUES ('B', 'b', '')",
        "insert without into": "INSERT pages_page (title, slug, body) VALUES ('B', 'b', '')",
        "on duplicate key update": (
            "INSERT INTO pages_page (id, title, slug, body) SELECT id, title, slug, 'x'"
            " FROM pages_page ON DUPLICATE KEY UPDATE body = 'x'"
        ),
        "a session write, then a page write": (
            "INSERT INTO django_session (session_key, session_data, expire_date)"
            " VALUES ('k', '', NOW()); UPDATE pages_page SET body = 'x'"
        ),
        "update low_priority ignore": "UPDATE LOW_PRIORITY IGNORE pages_page SET body = 'x'",
        "multi-table update behind an ignored table": (
            "UPDATE django_session JOIN pages_page SET pages_page.body = 'x'"
        ),
        "multi-table update with a comma": (
            "UPDATE django_session s, pages_page p SET p.body = 'x'"
        ),
        "multi-table delete": "DELETE pages_page FROM pages_page JOIN django_session",
        "multi-table delete, ignored table first": (
            "DELETE FROM django_session, pages_page USING django_session JOIN pages_page"
        ),
        "delete quick": "DELETE QUICK FROM pages_page",
        "hash comment first": "# edit\nUPDATE pages_page SET body = 'x'",
        "a hash inside a string, then a write": "SELECT '#'; UPDATE pages_page SET body = 'x'",
        "a double-quoted string with an apostrophe, then a write": (
            "SELECT \"it's\"; UPDATE pages_page SET body = 'x'"
        ),
        "an escaped quote, then a write": "SELECT 'it\\'s'; UPDATE pages_page SET body = 'x'",
        "a doubled dash that is no comment": "SELECT 1 --1; UPDATE pages_page SET body = 'x'",
    }
    HARMLESS |= {
        "a locking read": "SELECT id FROM pages_page FOR UPDATE",
        "a session variable": "SET @pages = (SELECT COUNT(*) FROM pages_page)",
        "a session written with backtick names": (
            "INSERT INTO `django_session` (`session_key`, `session_data`, `expire_date`)"
            " VALUES ('k', '', NOW()) ON DUPLICATE KEY UPDATE `session_data` = 'd'"
        ),
        "replace into an ignored table": (
            "REPLACE django_session (session_key, session_data, expire_date)"
            " VALUES ('k', '', NOW())"
        ),
        "last_login with backtick names": "UPDATE `users_user` SET `last_login` = NOW()",
        "a hash comment that hides a write": "SELECT 1 # ; UPDATE pages_page SET body = 'x'",
        "a dash comment that hides a write": "SELECT 1 -- ; UPDATE pages_page SET body = 'x'",
    }
{%- endif %}


@pytest.mark.parametrize("name", HIDDEN_WRITES)
def test_any_raw_statement_that_changes_content_wipes_the_cached_pages(client, page, name):
    sql = HIDDEN_WRITES[name]
    get_user_model().objects.create_user(username="ada")
    assert cached(client, "/pages/")
    with connection.cursor() as cursor:
        cursor.execute(sql)
    assert get(client, "/pages/")["X-Cache"] == "miss"


@pytest.mark.parametrize("name", HARMLESS)
def test_statements_that_change_no_content_keep_the_cached_pages(client, page, name):
    sql = HARMLESS[name]
    get_user_model().objects.create_user(username="ada")
    assert cached(client, "/pages/")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert get(client, "/pages/")["X-Cache"] == "hit"
{%- if cookiecutter.database == "mysql" %}


@pytest.mark.parametrize(
    "sql",
    [
        # Each commits at once, needs a file or a setting, or is MariaDB's alone (the
        # suite runs on MySQL too), so they are read, not run.
        "TRUNCATE pages_page",
        "WITH p AS (SELECT id FROM pages_page) UPDATE pages_page SET body = 'x'",
        "LOAD DATA LOCAL INFILE 'pages.csv' INTO TABLE pages_page",
        "LOAD XML INFILE 'pages.xml' REPLACE INTO TABLE django_session",
        "SELECT 1 /*! ; UPDATE pages_page SET body = 'x' */",
        "/*M!100000 UPDATE pages_page SET body = 'x' */",
        "CALL edit_pages()",
        "HANDLER pages_page OPEN",
        "SET STATEMENT max_statement_time = 10 FOR UPDATE pages_page SET body = 'x'",
        "ANALYZE UPDATE pages_page SET body = 'x'",
        "ANALYZE FORMAT=JSON DELETE FROM pages_page",
    ],
)
def test_mysql_writes_that_are_read_not_run_wipe_the_cached_pages(sql):
    assert changes_content(sql, "mysql")


@pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL or MariaDB")
def test_a_write_behind_a_backslash_wipes_the_cached_pages_in_any_sql_mode(client, page):
    """Without NO_BACKSLASH_ESCAPES the first string would run to 'x'; with it, the
    UPDATE is a statement of its own."""
    assert cached(client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode")
        (mode,) = cursor.fetchone()
        cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        try:
            cursor.execute("SELECT 'a\\'; UPDATE pages_page SET body = 'x'; SELECT 'b'")
        finally:
            cursor.execute("SET SESSION sql_mode = %s", [mode])
    response = get(client)
    assert (response["X-Cache"], b"<p>x</p>" in response.content) == ("miss", True)


# Each commits at once, so they are read, not run.
@pytest.mark.parametrize("sql", ["ANALYZE TABLE pages_page", "ANALYZE LOCAL TABLE pages_page"])
def test_mysql_reads_that_are_read_not_run_keep_the_cached_pages(sql):
    assert not changes_content(sql, "mysql")
{%- endif %}


def test_a_many_to_many_change_wipes_the_cached_pages(client, page):
    user = get_user_model().objects.create_user(username="grace")
    group = Group.objects.create(name="editors")
    assert cached(client)
    user.groups.add(group)
    assert get(client)["X-Cache"] == "miss"
    assert cached(client)
    user.groups.remove(group)
    assert get(client)["X-Cache"] == "miss"


def test_an_edit_in_the_admin_shows_on_the_next_request(client, admin_client, page):
    assert cached(client)
    response = admin_client.post(
        f"/admin/pages/page/{page.pk}/change/",
        {"title": "Hello", "slug": "hello", "body": "edited in the admin"},
    )
    assert response.status_code == 302
    response = get(client)
    assert response["X-Cache"] == "miss"
    assert b"edited in the admin" in response.content


def test_a_rolled_back_change_wipes_nothing(client, page):
    assert cached(client)
    with pytest.raises(RuntimeError), transaction.atomic():
        Page.objects.update(body="never committed")
        raise RuntimeError
    assert get(client)["X-Cache"] == "hit"


def test_signing_in_and_the_admin_log_keep_the_cache(client, page):
    assert cached(client)
    user = get_user_model().objects.create_user(username="ada", password="a long passphrase")
    assert cached(client)  # creating a user is a content change; cache again
    assert client.__class__().login(username="ada", password="a long passphrase")
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[page],
        action_flag=ADDITION,
        change_message="",
        single_object=True,
    )
    assert get(client)["X-Cache"] == "hit"


def test_the_list_of_ignored_writes_is_a_setting(client, page, settings):
    settings.PAGE_CACHE_IGNORED_WRITES = [*settings.PAGE_CACHE_IGNORED_WRITES, "pages.Page"]
    assert cached(client)
    Page.objects.update(body="not content, by this setting")
    assert get(client)["X-Cache"] == "hit"


def test_a_write_outside_django_is_not_seen_until_wipe_page_cache(client, page):
    assert cached(client)
    cursor = connection.connection.cursor()  # the driver's own: as a database shell would write
    cursor.execute("UPDATE pages_page SET body = 'written outside Django'")
    cursor.close()
    assert get(client)["X-Cache"] == "hit"  # the README's stated limit
    call_command("wipe_page_cache", stdout=open(os.devnull, "w"))  # noqa: SIM115
    response = get(client)
    assert response["X-Cache"] == "miss"
    assert b"written outside Django" in response.content


def test_a_page_rendered_from_data_read_before_an_edit_is_never_served(client, page):
    first = get(client, "/t/race/hello/")
    assert b"first version" in first.content
    # The edit committed while that page rendered: it must not come back from the cache.
    second = get(client, "/t/race/hello/")
    assert second["X-Cache"] == "miss"
    assert b"edited meanwhile" in second.content


# The cache backend itself


def test_the_cache_table_is_made_by_migrate(db):
    tables = connection.introspection.table_names()
    assert {"page_cache", "page_cache_generation"} <= set(tables)
    assert Generation.objects.filter(slot=0).exists()


def test_the_cache_api_round_trips_values(db):
    cache = caches[settings.PAGE_CACHE_ALIAS]
    cache.set("k", {"a": [1, 2]})
    assert cache.get("k") == {"a": [1, 2]}
    cache.set("k", "replaced")
    assert cache.get("k") == "replaced"
    assert cache.delete("k")
    assert cache.get("k", "gone") == "gone"
    cache.set("short", 1, timeout=-1)
    assert cache.get("short") is None


def test_a_write_is_one_statement_and_never_counts_the_table(db):
    cache = caches[settings.PAGE_CACHE_ALIAS]
    with CaptureQueriesContext(connection) as queries:
        cache.set("k", "v")
    assert len(queries) == 1
    assert "COUNT" not in queries[0]["sql"].upper()


def test_cull_deletes_expired_and_outdated_pages_only(client, page):
    get(client)  # the current page
    CacheEntry.objects.create(cache_key="page:old", value="oldtoken\n[]\nx", expires=now())
    CacheEntry.objects.create(
        cache_key="page:expired", value="t\n[]\nx", expires=now() - timedelta(seconds=1)
    )
    call_command("cull_page_cache", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert CacheEntry.objects.count() == 1
    assert "GET http://testserver/pages/hello/\n" in CacheEntry.objects.get().value
    assert get(client)["X-Cache"] == "hit"


# Real concurrency: a server's processes, requesting threads and an editing process


@pytest.fixture
def make_database(tmp_path, db):
    """Databases of their own that other processes can open: make_database(name) -> URL."""
    settings_dict, made = connection.settings_dict, []

    def make(suffix):
        if connection.vendor == "sqlite":
            return f"sqlite:///{tmp_path / suffix}.sqlite3"
        name = f"{settings_dict['NAME']}_{suffix}"
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
        made.append(name)
        user, password = settings_dict["USER"], settings_dict["PASSWORD"]
        host = settings_dict["HOST"] or "127.0.0.1"
        if settings_dict["PORT"]:
            host += f":{settings_dict['PORT']}"
        # A database server: the same server and credentials, the vendor's URL scheme.
        return f"{connection.vendor}://{user}:{password}@{host}/{name}"

    yield make
    for name in made:
        with connection._nodb_cursor() as cursor:
{%- if cookiecutter.database == "postgresql" %}
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
{%- else %}
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
{%- endif %}


@pytest.fixture
def site_database(make_database):
    return make_database("site")


def project_env(database_url, **extra):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def manage(database_url, *args, **extra_env):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=project_env(database_url, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


@pytest.fixture
def migrated_site(site_database):
    url = site_database
    finished(manage(url, "migrate", "--no-input", "-v", "0"))
    return url


@pytest.fixture
def server(migrated_site, tmp_path):
    with Gunicorn(log=tmp_path / "gunicorn.log", env=project_env(migrated_site)) as gunicorn:
        yield migrated_site, gunicorn.port


EDITOR = """
import time
from {{ cookiecutter.project_slug }}.pages.models import Page
Page.objects.create(title=slug, slug=slug, body="version 0")
print("0", time.monotonic(), flush=True)
for version in range(1, 61):
    time.sleep(0.03)
    Page.objects.filter(slug=slug).update(body=f"version {version}")
    print(version, time.monotonic(), flush=True)
"""


def test_no_request_after_a_commit_gets_a_page_rendered_before_it(server):
    """Two editing processes, each committing its own page's versions: the token must
    move for both, whichever commits, and no visitor may see a version older than one
    committed before the request started."""
    url, port = server
    slugs = ("live-a", "live-b")
    editors = {
        slug: manage(url, "shell", "-v", "0", "-c", f"slug = {slug!r}" + EDITOR) for slug in slugs
    }
    seen, stop = [], threading.Event()

    def visitor():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while not stop.is_set():
            for slug in slugs:
                started = time.monotonic()
                conn.request("GET", f"/pages/{slug}/")
                response = conn.getresponse()
                body = response.read().decode()
                if response.status == 200:
                    version = int(body.split("version ", 1)[1].split("<", 1)[0])
                    seen.append((slug, started, version, response.getheader("X-Cache")))

    visitors = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in visitors:
        thread.start()
    try:
        out = {slug: finished(editor) for slug, editor in editors.items()}
    finally:
        stop.set()
        for thread in visitors:
            thread.join()
    committed = {
        slug: [(float(at), int(version)) for version, at in map(str.split, lines.splitlines())]
        for slug, lines in out.items()
    }

    def newest_before(slug, started):
        return max((v for at, v in committed[slug] if at < started), default=0)

    stale = [
        (slug, version, newest_before(slug, started))
        for slug, started, version, _ in seen
        if version < newest_before(slug, started)
    ]
    assert not stale, f"{len(stale)} of {len(seen)} responses older than a committed edit"
    assert {"hit", "miss"} <= {cache for *_, cache in seen}, "the cache was not exercised"
    for slug in slugs:
        assert len({version for s, _, version, _ in seen if s == slug}) > 10


WRITER = """
from django.conf import settings
from django.core.cache import caches
cache = caches[settings.PAGE_CACHE_ALIAS]
for n in range(400):
    cache.set(f"{name}-{n}", "x" * 1000)
"""


def test_two_processes_writing_the_cache_lose_no_write(migrated_site):
    writers = [
        manage(migrated_site, "shell", "-v", "0", "-c", f"name = {n!r}" + WRITER) for n in "ab"
    ]
    for writer in writers:
        finished(writer)
    check = "from {{ cookiecutter.project_slug }}.pagecache.models import CacheEntry as C;"
    check += "print(C.objects.count())"
    assert finished(manage(migrated_site, "shell", "-v", "0", "-c", check)).strip() == "800"

{%- if cookiecutter.database == "sqlite" %}


LOCKER = """
import sqlite3, sys, time
database = sqlite3.connect(sys.argv[1], isolation_level=None)
database.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
database.execute("COMMIT")
"""


def test_a_miss_never_queues_for_sqlite_s_write_lock(server):
    url, port = server
    create = "from {{ cookiecutter.project_slug }}.pages.models import Page as P;"
    create += "P.objects.create(title='Hello', slug='hello', body='first version')"
    finished(manage(url, "shell", "-v", "0", "-c", create))
    # A real write holds the lock for 5 s, as a long admin save or a flood of misses would.
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, url.removeprefix("sqlite:///"), "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout.readline() == "locked\n"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.monotonic()
        conn.request("GET", "/pages/hello/")
        response = conn.getresponse()
        response.read()
        waited = time.monotonic() - started
    finally:
        locker.wait(timeout=30)
    assert (response.status, response.getheader("X-Cache")) == (200, "miss")
    assert waited < 4, f"the miss waited {waited:.1f} s of the 5 s write lock"
    for expected in ("miss", "hit"):  # with the lock free, the page is stored as before
        conn.request("GET", "/pages/hello/")
        response = conn.getresponse()
        response.read()
        assert response.getheader("X-Cache") == expected
{%- endif %}


# A second database: writes there keep working and wipe the cached pages.

TWO_DATABASES = '''
"""The project's settings, with its pages in a second database."""

import os

from config.settings import *  # noqa: F403

DATABASES["other"] = env.db_url_config(os.environ["OTHER_DATABASE_URL"])  # noqa: F405
DATABASE_ROUTERS = ["two_databases.PagesElsewhere"]


class PagesElsewhere:
    def db_for_read(self, model, **hints):
        return "other" if model._meta.app_label == "pages" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, **hints):
        if db != "other":
            return None
        return app_label == "pages" or (
            app_label == "pagecache" and bool(os.environ.get("CACHE_TABLES_THERE"))
        )
'''

EDIT_ELSEWHERE = """
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import setup_test_environment
from {{ cookiecutter.project_slug }}.pages.models import Page

setup_test_environment()
call_command("migrate", verbosity=0)
# Only the apps the router sends there: another app's migration may look for its
# table on every database, and fail where the router kept that table out.
for app in ("pages", "pagecache"):
    call_command("migrate", app, database="other", verbosity=0)
Page.objects.create(title="Hello", slug="hello", body="version 1")
client = Client()
for version in (2, 3):
    client.get("/pages/hello/")
    assert client.get("/pages/hello/")["X-Cache"] == "hit"
    with transaction.atomic(using="other"):
        Page.objects.filter(slug="hello").update(body=f"version {version}")
        if version == 3:
            Page.objects.create(title="Other", slug="other")
    response = client.get("/pages/hello/")
    print(response["X-Cache"], f"version {version}" in response.content.decode())
"""


@pytest.mark.parametrize("cache_tables_there", [False, True])
def test_writes_to_a_second_database_keep_working_and_wipe_the_pages(
    make_database, tmp_path, cache_tables_there
):
    (tmp_path / "two_databases.py").write_text(TWO_DATABASES)
    default, other = make_database("site"), make_database("other")
    process = manage(
        default,
        "shell",
        "-v",
        "0",
        "-c",
        EDIT_ELSEWHERE,
        DJANGO_SETTINGS_MODULE="two_databases",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{PROJECT_DIR}",
        OTHER_DATABASE_URL=other,
        CACHE_TABLES_THERE="1" if cache_tables_there else "",
    )
    assert finished(process).split() == ["miss", "True", "miss", "True"]


# migrate, however it ends, leaves no page from before it.

DATA_MIGRATION = """
from django.db import migrations


def rewrite(apps, schema_editor):
    apps.get_model("pages", "Page").objects.update(body="migrated")


class Migration(migrations.Migration):
    dependencies = [("pages", "0001_initial")]
    operations = [migrations.RunPython(rewrite)]
"""

FAILING_MIGRATION = """
from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("this migration fails")


class Migration(migrations.Migration):
    dependencies = [("pages", "0002_rewrite")]
    operations = [migrations.RunPython(fail)]
"""

MIGRATE_THEN_FAIL = """
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
from {{ cookiecutter.project_slug }}.pages.models import Page

setup_test_environment()
call_command("migrate", verbosity=0)
Page.objects.create(title="Hello", slug="hello", body="first version")
client = Client()
client.get("/pages/hello/")
assert client.get("/pages/hello/")["X-Cache"] == "hit"
with override_settings(MIGRATION_MODULES={"pages": "later_pages"}):
    try:
        call_command("migrate", verbosity=0)
    except RuntimeError as error:
        print(error)
response = client.get("/pages/hello/")
print(response["X-Cache"], "migrated" in response.content.decode())
"""


def test_a_migrate_that_fails_after_a_data_migration_leaves_no_old_page(make_database, tmp_path):
    later = tmp_path / "later_pages"
    later.mkdir()
    migrations = PROJECT_DIR / "{{ cookiecutter.project_slug }}" / "pages" / "migrations"
    for name in ("__init__.py", "0001_initial.py"):
        (later / name).write_text((migrations / name).read_text())
    (later / "0002_rewrite.py").write_text(DATA_MIGRATION)
    (later / "0003_fails.py").write_text(FAILING_MIGRATION)
    process = manage(
        make_database("site"),
        "shell",
        "-v",
        "0",
        "-c",
        MIGRATE_THEN_FAIL,
        PYTHONPATH=f"{tmp_path}{os.pathsep}{PROJECT_DIR}",
    )
    assert finished(process).splitlines() == ["this migration fails", "miss True"]
{%- if cookiecutter.database != "sqlite" %}


# A database server: the token adds no lock wait and no deadlock between writers.


def in_thread(function):
    """Run function in a thread, on a database connection of its own."""
    outcome = []

    def run():
        try:
            outcome.append(function())
        except Exception as error:  # the test reads it
            outcome.append(error)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has one counter")
def test_cull_folds_the_counters_of_ended_sessions_and_keeps_the_token(client, page):
    assert cached(client)
    Generation.objects.create(slot=2**31 - 1, count=7)  # a session id no session has
    token = sum(Generation.objects.values_list("count", flat=True))
    assert get(client)["X-Cache"] == "miss"  # the sum moved: a new slot is a change
    assert cached(client)
    call_command("cull_page_cache", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert not Generation.objects.filter(slot=2**31 - 1).exists()
    assert sum(Generation.objects.values_list("count", flat=True)) == token
    assert get(client)["X-Cache"] == "hit"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_a_writer_never_waits_for_another_writer_s_transaction(page):
    holding = threading.Event()

    def long_transaction():
        with transaction.atomic():
            Page.objects.filter(pk=page.pk).update(body="a slow edit")
            holding.set()
            time.sleep(5)

    thread, outcome = in_thread(long_transaction)
    assert holding.wait(10)
    started = time.monotonic()
    Page.objects.create(title="Other", slug="other")
    waited = time.monotonic() - started
    thread.join(30)
    assert outcome == [None]
    assert waited < 2.5, f"an unrelated insert waited {waited:.2f} s of a 5 s transaction"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_writers_locking_rows_in_opposite_orders_never_deadlock(page):
    other = Page.objects.create(title="B", slug="b")
    a_saved, b_locked = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            Page.objects.filter(pk=page.pk).update(body="by the first")
            a_saved.set()
            assert b_locked.wait(10)
            list(Page.objects.select_for_update().filter(pk=other.pk))  # waits for the second

    def second():
        with transaction.atomic():
            list(Page.objects.select_for_update().filter(pk=other.pk))
            b_locked.set()
            assert a_saved.wait(10)
            Page.objects.create(title="C", slug="c")

    (one, first_outcome), (two, second_outcome) = in_thread(first), in_thread(second)
    one.join(30)
    two.join(30)
    assert (first_outcome, second_outcome) == ([None], [None])
{%- endif %}


# Expiry


# A database server's CURRENT_TIMESTAMP stands still within a transaction.
@pytest.mark.django_db(transaction=True)
def test_a_page_expires_after_page_cache_seconds(client, page, settings):
    pages = settings.CACHES[settings.PAGE_CACHE_ALIAS]
    settings.CACHES = {**settings.CACHES, settings.PAGE_CACHE_ALIAS: {**pages, "TIMEOUT": 3}}
    assert get(client)["X-Cache"] == "miss"
    stored = time.monotonic()  # the page expires at most 3 s after this
    time.sleep(1)
    assert get(client)["X-Cache"] == "hit"
    time.sleep(max(0, stored + 3.2 - time.monotonic()))
    assert get(client)["X-Cache"] == "miss"
    assert get(client)["X-Cache"] == "hit"  # stored again, for another 3 s
