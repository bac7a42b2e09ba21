"""Tests of the page cache: what it serves, to whom, and when it forgets."""
