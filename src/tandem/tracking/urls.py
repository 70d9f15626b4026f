"""Public tracking endpoints (no login): pixel, click redirects, content links, landing pages."""

from django.urls import URLPattern, path

from tandem.tracking.views import landing, pixel, public

app_name = "tracking"

urlpatterns: list[URLPattern] = [
    # ingestion helpers (pixel, click, script)
    path("t/p.gif", pixel.pixel, name="pixel"),
    path("t/c/<str:token>", public.click, name="click"),
    # content links
    path("c/<str:token>", public.content, name="content"),
    # landing pages and form submissions
    path("f/<slug:slug>/", landing.landing, name="landing"),
    path("f/<slug:slug>/submit", landing.form_submit, name="form_submit"),
]
