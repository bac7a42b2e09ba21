"""URL route of the task queue's example page, added to config/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("tasks/example", views.example, name="task_example"),
]
