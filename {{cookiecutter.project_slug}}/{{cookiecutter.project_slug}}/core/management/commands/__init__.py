"""serve: the whole site as one command."""
