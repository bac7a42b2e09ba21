"""manage.py commands of the page cache."""
