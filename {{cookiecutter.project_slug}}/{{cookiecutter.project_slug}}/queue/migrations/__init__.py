"""Schema of the task queue's own tables."""
