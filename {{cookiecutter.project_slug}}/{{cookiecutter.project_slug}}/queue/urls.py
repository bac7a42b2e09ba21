"""URL route of the task queue's example page; config/urls.py mounts it under tasks/."""

from django.urls import path

from . import views

app_name = "queue"
urlpatterns = [
    path("example", views.example, name="example"),
]
