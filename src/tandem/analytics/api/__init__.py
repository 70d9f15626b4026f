"""/api/v1/analytics: the funnel, sales metrics, attribution and attribution over external paths."""

from ninja import Router

from tandem.analytics.api import attribution, funnel, paths, sales

analytics_router = Router(tags=["analytics"])
analytics_router.add_router("", funnel.router)
analytics_router.add_router("", sales.router)
analytics_router.add_router("", attribution.router)
analytics_router.add_router("", paths.router)

__all__ = ["analytics_router"]
