"""Jobs that run at set times: the schedule, its guard and what runs it."""
