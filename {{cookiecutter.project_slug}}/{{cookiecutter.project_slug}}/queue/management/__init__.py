"""Management commands of the task queue."""
