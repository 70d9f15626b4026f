"""(being written)"""

from ninja import Router

forecasts_router = Router(tags=["sales"])
quotas_router = Router(tags=["sales"])
