"""Lead pages under /leads/ (each view module lists its own routes)."""

from tandem.leads.views import handoff, predictive, scoring, segments

urlpatterns = [
    *segments.urlpatterns,
    *scoring.urlpatterns,
    *predictive.urlpatterns,
    *handoff.urlpatterns,
]
