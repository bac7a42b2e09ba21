"""Management commands of the site itself."""
