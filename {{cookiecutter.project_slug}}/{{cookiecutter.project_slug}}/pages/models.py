"""A page of the public site."""

from django.db import models
from django.urls import reverse


class Page(models.Model):
    """A titled page served at /pages/<slug>/."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(blank=True)

    class Meta:
        ordering = ("title",)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:detail", kwargs={"slug": self.slug})
