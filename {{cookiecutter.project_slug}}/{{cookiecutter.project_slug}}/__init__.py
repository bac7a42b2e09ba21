"""The project's own Django apps."""
