"""Tests of the task queue, with real worker processes on the test database."""
