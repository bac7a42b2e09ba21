"""Closing a thread's connections after a database error, broken ones included.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

import logging

from django.db import Error, connections

logger = logging.getLogger(__name__)


def close_connections():
    """Close this thread's connections, broken ones too, so the next query reconnects."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Error:
            logger.debug("Closing a broken connection failed", exc_info=True)
