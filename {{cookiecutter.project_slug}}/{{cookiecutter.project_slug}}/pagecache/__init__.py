"""Whole public pages cached in this database, wiped by any committed change to the data.

How it fits together:
- middleware.py answers anonymous GET/HEAD requests from the cache with one database
  statement, and stores cacheable misses (its docstring lists what is never cached);
- invalidation.py watches every SQL write; one to a content table replaces the
  generation token in the same transaction, so the cached pages are gone exactly when
  the change commits, and stay if it rolls back;
- backend.py is Django's DatabaseCache with one statement per operation and no table
  count; `manage.py cull_page_cache` deletes expired and outdated rows.
Settings: the "Public site caching" block of config/settings.py.
"""
