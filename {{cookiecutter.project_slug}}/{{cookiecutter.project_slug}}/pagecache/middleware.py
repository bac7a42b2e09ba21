"""Serve whole pages to anonymous visitors from the page cache, and store them on a miss.

A hit costs one database statement: it reads the current generation token and the page
together, and the page is stored as text (token, headers, body), so nothing is
unpickled. Every response says X-Cache: hit or miss.

Never cached and never served from the cache: methods other than GET and HEAD; requests
carrying a session or messages cookie or an Authorization header (a signed-in user); the
admin; responses that set a cookie, are not 200 HTML, vary on anything but Cookie and
Accept-Encoding, or say private, no-store or no-cache.

A miss remembers the token it saw before the view read any data. If content changes
while the view renders, the token changes with the commit, and the page stored under
the old token is never served.
"""

import json
import logging
import re

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_max_age

logger = logging.getLogger(__name__)

NOT_SHARED = {"private", "no-store", "no-cache"}
HARMLESS_VARY = {"cookie", "accept-encoding"}
KEY_PREFIX = "page:"
COMMA = re.compile(r"\s*,\s*")


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.alias = settings.PAGE_CACHE_ALIAS
        self.private_cookies = (settings.SESSION_COOKIE_NAME, "messages")
        self._excluded = None

    def excluded_paths(self):
        if self._excluded is None:
            self._excluded = (reverse("admin:index"),)
        return self._excluded

    def __call__(self, request):
        if not self.may_use_cache(request):
            response = self.get_response(request)
            response.headers["X-Cache"] = "miss"
            return response

        cache = caches[self.alias]
        key = KEY_PREFIX + request.build_absolute_uri()
        if len(key) > 250:  # the cache_key column holds 255 characters
            response = self.get_response(request)
            response.headers["X-Cache"] = "miss"
            return response
        try:
            token, stored = cache.lookup_page(key)
        except DatabaseError:  # the view decides what to show while the database is down
            logger.exception("Could not read the page cache")
            token, stored = None, None
        if token is not None and stored is not None:
            stored_token, headers, body = stored.split("\n", 2)
            if stored_token == token:
                response = HttpResponse(body, headers=json.loads(headers))
                response.headers["X-Cache"] = "hit"
                return response

        response = self.get_response(request)
        timeout = self.timeout(request, response, cache)
        if token is not None and timeout:
            text = "\n".join([token, json.dumps(list(response.items())), response.text])
            try:
                cache.store_page(key, text, timeout)
            except DatabaseError:
                logger.exception("Could not store %s in the page cache", key)
        response.headers["X-Cache"] = "miss"
        return response

    def may_use_cache(self, request):
        """Whether this request may be answered from the cache (and its answer stored)."""
        return (
            request.method in ("GET", "HEAD")
            and not any(name in request.COOKIES for name in self.private_cookies)
            and "HTTP_AUTHORIZATION" not in request.META
            and not request.path.startswith(self.excluded_paths())
        )

    def timeout(self, request, response, cache):
        """Seconds to keep this response, or 0 when it must not be stored."""
        if (
            response.status_code != 200
            or response.streaming
            or response.cookies
            or not response.get("Content-Type", "").startswith("text/html")
            or response.charset.lower().replace("-", "") != "utf8"
            or response.has_header("Content-Encoding")
            or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
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
