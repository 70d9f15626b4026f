"""The sales API: deals, pipelines, forecasts, quotas, tasks, sequences, enablement, insights."""

from tandem.sales.api.deals import deals_router, pipelines_router
from tandem.sales.api.enablement import enablement_router
from tandem.sales.api.forecasts import forecasts_router, quotas_router
from tandem.sales.api.insights import insights_router
from tandem.sales.api.sequences import sequences_router
from tandem.sales.api.tasks import tasks_router

__all__ = [
    "deals_router",
    "enablement_router",
    "forecasts_router",
    "insights_router",
    "pipelines_router",
    "quotas_router",
    "sequences_router",
    "tasks_router",
]
