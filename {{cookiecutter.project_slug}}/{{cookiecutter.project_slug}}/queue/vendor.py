"""Find the module of what only one database needs, when this project has one.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

from importlib import import_module


def vendor_module(connection):
    """queue/<vendor>.py for this connection's database, or None.

    A project holds the module of its own database alone (SQLite needs none).
    """
    name = f"{__package__}.{connection.vendor}"
    try:
        return import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:  # the module is there but needs something missing
            raise
        return None
