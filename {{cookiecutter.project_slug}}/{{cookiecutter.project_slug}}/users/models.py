"""The user model."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A user; fields added here later need no change of AUTH_USER_MODEL."""
