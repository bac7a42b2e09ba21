"""The public list of pages and each page."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Page


@require_safe
def page_list(request):
    return render(request, "pages/page_list.html", {"pages": Page.objects.all()})


@require_safe
def page_detail(request, slug):
    page = get_object_or_404(Page, slug=slug)
    return render(request, "pages/page_detail.html", {"page": page})
