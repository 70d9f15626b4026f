"""(being written)"""

from ninja import Router

insights_router = Router(tags=["sales"])
