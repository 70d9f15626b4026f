"""Public tracking endpoints (no login): pixel, click redirects, content links, landing pages."""

from django.urls import URLPattern, path

from tandem.tracking.views import public

app_name = "tracking"

urlpatterns: list[URLPattern] = [
    # ingestion helpers (pixel, click, script)
    path("t/c/<str:token>", public.click, name="click"),
    # content links
    path("c/<str:token>", public.content, name="content"),
    # landing pages and form submissions
]
