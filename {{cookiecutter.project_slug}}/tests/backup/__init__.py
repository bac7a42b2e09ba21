"""Tests of backup and restore, on SQLite."""
