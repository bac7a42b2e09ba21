"""Find the module of what only one database needs, when this project has one."""

from importlib import import_module


def vendor_module(connection):
    """queue/<vendor>.py for this connection's database, or None.

    The generator adds such a module only for the database the project was made for.
    """
    try:
        return import_module(f"{__package__}.{connection.vendor}")
    except ModuleNotFoundError:
        return None
