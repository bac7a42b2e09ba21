"""Serve whole pages to anonymous visitors from the page cache, and store them on a miss.

Machinery the template keeps up to date; tune it with the PAGE_CACHE_ settings in
config/settings.py.

A hit costs one database statement: it reads the current generation token and the page
together, and the page is stored as text (token, request, headers, body), so nothing is
unpickled. Every response that reaches this middleware says X-Cache: hit or miss; static
files, which WhiteNoise answers before it, say neither.

A page is stored under its method, scheme, host (lower case, no default port) and path,
in one of MAX_ENTRIES slots picked by a hash of those: the table never holds more pages
than that, however many URLs arrive, and a page that shares a slot replaces the other.

Never cached and never served from the cache: methods other than GET and HEAD (each
has entries of its own); URLs with a query string; requests carrying a cookie not in
PAGE_CACHE_IGNORED_COOKIES (a session, messages, or any a page may be built from) or an
Authorization header; the admin; responses that set a cookie (through
response.cookies or a raw header), used the visitor's CSRF token or a CSP nonce, are
not 200 HTML, vary on anything but Cookie and Accept-Encoding, or say private, no-store
or no-cache.

A miss remembers the token it saw before the view read any data. If content changes
while the view renders, the token changes with the commit, and the page stored under
the old token is never served.
"""

import hashlib
import json
import logging
import re

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_max_age
from django.utils.encoding import escape_uri_path

logger = logging.getLogger(__name__)

NOT_SHARED = {"private", "no-store", "no-cache"}
HARMLESS_VARY = {"cookie", "accept-encoding"}
KEY_PREFIX = "page:"
DEFAULT_PORTS = {"http": ":80", "https": ":443"}
COMMA = re.compile(r"\s*,\s*")
CSP_HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.alias = settings.PAGE_CACHE_ALIAS
        self.ignored_cookies = frozenset(settings.PAGE_CACHE_IGNORED_COOKIES)
        self._excluded = None

    def excluded_paths(self):
        """The admin's paths, if the project routes the admin at all."""
        if self._excluded is None:
            try:
                self._excluded = (reverse("admin:index"),)
            except NoReverseMatch:
                self._excluded = ()
        return self._excluded

    def __call__(self, request):
        if not self.may_use_cache(request):
            response = self.get_response(request)
            response.headers["X-Cache"] = "miss"
            return response

        cache = caches[self.alias]
        address = self.address(request)
        key = self.key(address, cache)
        try:
            token, stored = cache.lookup_page(key)
        except DatabaseError:  # the view decides what to show while the database is down
            logger.exception("Could not read the page cache")
            token, stored = None, None
        if token is not None and stored is not None:
            stored_token, stored_address, headers, body = stored.split("\n", 3)
            if stored_token == token and stored_address == address:
                response = HttpResponse(body, headers=json.loads(headers))
                response.headers["X-Cache"] = "hit"
                return response

        response = self.get_response(request)
        timeout = self.timeout(request, response, cache)
        if token is not None and timeout:
            headers = json.dumps(list(response.items()))
            text = "\n".join([token, address, headers, response.text])
            try:
                cache.store_page(key, text, timeout)
            except DatabaseError:
                logger.exception("Could not store %s in the page cache", address)
        response.headers["X-Cache"] = "miss"
        return response

    def may_use_cache(self, request):
        """Whether this request may be answered from the cache (and its answer stored)."""
        return (
            request.method in ("GET", "HEAD")
            and not request.META.get("QUERY_STRING")
            and request.COOKIES.keys() <= self.ignored_cookies
            and "HTTP_AUTHORIZATION" not in request.META
            and not request.path.startswith(self.excluded_paths())
        )

    @staticmethod
    def address(request):
        """What identifies a page: method, scheme, host and path, with what never changes
        the page (the host's letter case, a default port) taken out."""
        scheme = request.scheme
        host = request.get_host().lower().removesuffix(DEFAULT_PORTS.get(scheme, ""))
        return f"{request.method} {scheme}://{host}{escape_uri_path(request.path)}"

    @staticmethod
    def key(address, cache):
        """One of the cache's MAX_ENTRIES slots: the table holds no more rows than that."""
        digest = hashlib.blake2b(address.encode(), digest_size=8).digest()
        return f"{KEY_PREFIX}{int.from_bytes(digest) % cache._max_entries}"

    def timeout(self, request, response, cache):
        """Seconds to keep this response, or 0 when it must not be stored."""
        if (
            response.status_code != 200
            or response.streaming
            or response.cookies
            or response.has_header("Set-Cookie")
            or not response.get("Content-Type", "").startswith("text/html")
            or response.charset.lower().replace("-", "") != "utf8"
            or response.has_header("Content-Encoding")
            or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            or getattr(request, "_csp_nonce", None)  # a nonce made for this response
            or any("nonce-" in response.get(header, "") for header in CSP_HEADERS)
        ):
            return 0
        directives = {
            directive.split("=", 1)[0].strip().lower()
            for directive in COMMA.split(response.get("Cache-Control", ""))
        }
        vary = {field.strip().lower() for field in COMMA.split(response.get("Vary", ""))}
        if directives & NOT_SHARED or not vary - {""} <= HARMLESS_VARY:
            return 0
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return 0
        max_age = get_max_age(response)
        return cache.default_timeout if max_age is None else min(max_age, cache.default_timeout)
