"""Public pages edited in the admin: the content the page cache serves."""
