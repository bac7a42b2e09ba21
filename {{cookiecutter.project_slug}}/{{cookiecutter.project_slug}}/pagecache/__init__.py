"""Whole public pages cached in this database, wiped by any committed change to the data.

How it fits together:
- middleware.py answers anonymous GET/HEAD requests from the cache with one database
  statement, and stores cacheable misses in at most MAX_ENTRIES slots (its docstring
  lists what is never cached);
- invalidation.py reads every SQL statement of every connection; one that may change
  content moves the generation token on in the same transaction, so the cached pages
  are gone exactly when the change commits, and stay if it rolls back;
- backend.py is Django's DatabaseCache with one statement per operation and no table
  count; `manage.py cull_page_cache` deletes expired and outdated rows,
  `manage.py wipe_page_cache` forgets every page, and the app's `migrate` wipes after
  each migration and however it ends.
Settings: the "Public site caching" block of config/settings.py.
"""
