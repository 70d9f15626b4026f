"""Public tracking endpoints (no login): pixel, click redirects, content links, landing pages."""

from django.urls import URLPattern, path  # noqa: F401 (blocks below use path)

app_name = "tracking"

urlpatterns: list[URLPattern] = [
    # ingestion helpers (pixel, click, script)
    # content links
    # landing pages and form submissions
]
