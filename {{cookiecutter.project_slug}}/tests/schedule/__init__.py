"""Tests of the schedule: timetables, runjob, the guard and what runs the jobs."""
