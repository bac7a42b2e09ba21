"""Commands of the page cache."""
