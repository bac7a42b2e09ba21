"""The bulk job: dormant accounts are deactivated one at a time, superusers never."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from {{ cookiecutter.project_slug }}.users.dormant import (
    deactivate_dormant_users,
    deactivate_if_dormant,
    dormant_users,
)

User = get_user_model()


def account(username, *, days_since_sign_in, superuser=False):
    """An active account last signed in to that many days ago (None: never)."""
    now = timezone.now()
    user = User.objects.create(username=username, is_superuser=superuser)
    if days_since_sign_in is None:
        user.date_joined = now - timedelta(days=400)
    else:
        user.last_login = now - timedelta(days=days_since_sign_in)
    user.save()
    return user


@pytest.fixture
def accounts(db, settings):
    settings.DORMANT_USER_DAYS = 90
    return {
        "recent": account("recent", days_since_sign_in=3),
        "dormant": account("dormant", days_since_sign_in=200),
        "never": account("never", days_since_sign_in=None),
        "superuser": account("superuser", days_since_sign_in=200, superuser=True),
    }


def usernames(queryset):
    return sorted(queryset.values_list("username", flat=True))


def test_dormant_users_are_those_long_unseen_except_superusers(accounts):
    assert usernames(dormant_users()) == ["dormant", "never"]


def test_a_new_account_counts_from_the_day_it_was_made(accounts):
    User.objects.create(username="new")
    assert "new" not in usernames(dormant_users())


def test_unset_nobody_is_dormant(accounts, settings):
    settings.DORMANT_USER_DAYS = None
    assert not dormant_users().exists()


def test_an_account_that_signed_in_meanwhile_is_kept(accounts):
    dormant = accounts["dormant"]
    User.objects.filter(pk=dormant.pk).update(last_login=timezone.now())
    assert not deactivate_if_dormant(dormant.pk)
    dormant.refresh_from_db()
    assert dormant.is_active


def test_deactivating_twice_changes_nothing_more(accounts):
    dormant = accounts["dormant"]
    assert deactivate_if_dormant(dormant.pk)
    assert not deactivate_if_dormant(dormant.pk)


def test_the_job_deactivates_every_dormant_account_in_place(accounts):
    deactivate_dormant_users()
    assert usernames(User.objects.filter(is_active=False)) == ["dormant", "never"]
