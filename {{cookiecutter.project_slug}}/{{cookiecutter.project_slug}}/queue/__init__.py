"""Background tasks held in the project's database and run by `manage.py worker`."""
