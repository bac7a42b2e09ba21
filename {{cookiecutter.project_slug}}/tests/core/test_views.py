"""The home page and the admin."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_home_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["core/home.html", "base.html"]
    assert b'href="/admin/"' in response.content


def test_home_page_refuses_post(client):
    assert client.post(reverse("home")).status_code == 405


@pytest.mark.django_db
def test_admin_asks_for_a_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_admin_opens_for_a_superuser(admin_client):
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/users/user/").status_code == 200
