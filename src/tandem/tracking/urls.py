"""Public tracking endpoints (no login): pixel, click redirects, content links, landing pages."""

app_name = "tracking"

urlpatterns: list = [
    # ingestion helpers (pixel, click, script)
    # content links
    # landing pages and form submissions
]
