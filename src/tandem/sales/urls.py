"""Sales pages under /sales/ (each view module lists its own routes)."""

from tandem.sales.views import (
    aftersale,
    deals,
    enablement,
    forecasts,
    insights,
    myday,
    pipelines,
    related,
    sequences,
)

urlpatterns = [
    *deals.urlpatterns,
    *pipelines.urlpatterns,
    *forecasts.urlpatterns,
    *myday.urlpatterns,
    *sequences.urlpatterns,
    *enablement.urlpatterns,
    *insights.urlpatterns,
    *aftersale.urlpatterns,
    *related.urlpatterns,
]
