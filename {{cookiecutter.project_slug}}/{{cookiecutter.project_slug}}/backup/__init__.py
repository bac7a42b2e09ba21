"""Backups of the SQLite database that SQLite itself makes while the site runs, and restores."""
