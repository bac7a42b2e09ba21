"""The clock through a database server's restart: it must keep firing afterwards."""

import pytest
from django.db import connection

from ..support import restart_or_end_other_sessions
from .test_clock import Clock, wait_for_clocks


def test_the_clock_keeps_firing_after_the_database_restarts(live_database_url, tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("only a database server restarts; the tests run on SQLite now")
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: len(clock.ran()) >= 1, clocks=[clock])
        restart_or_end_other_sessions()
        before = len(clock.ran())
        wait_for_clocks(lambda: len(clock.ran()) >= before + 3, clocks=[clock])
        assert clock.stop() == 0
