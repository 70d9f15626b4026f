"""Dashboard pages under /dashboards/ (each view module lists its own routes)."""

from tandem.dashboards.views import attribution, funnel, handoff, marketing, sales, shared

urlpatterns = [
    *shared.urlpatterns,
    *marketing.urlpatterns,
    *sales.urlpatterns,
    *handoff.urlpatterns,
    *funnel.urlpatterns,
    *attribution.urlpatterns,
]
