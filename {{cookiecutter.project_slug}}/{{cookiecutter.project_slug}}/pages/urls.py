"""URL routes of the public pages, added to config/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("pages/", views.page_list, name="page_list"),
    path("pages/<slug:slug>/", views.page_detail, name="page_detail"),
]
