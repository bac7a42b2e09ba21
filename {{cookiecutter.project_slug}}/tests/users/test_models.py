"""The custom user model."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model


def test_the_user_model_is_the_project_s_own():
    assert settings.AUTH_USER_MODEL == "users.User"
    assert get_user_model()._meta.app_label == "users"


@pytest.mark.django_db
def test_users_keep_hashed_passwords():
    user = get_user_model().objects.create_user(username="ada", password="a long passphrase")
    assert user.check_password("a long passphrase")
    assert "a long passphrase" not in user.password


@pytest.mark.django_db
def test_superuser():
    user = get_user_model().objects.create_superuser(username="root", password="x" * 12)
    assert user.is_staff
    assert user.is_superuser
