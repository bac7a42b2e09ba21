"""The worker and the queue's housekeeping commands."""
