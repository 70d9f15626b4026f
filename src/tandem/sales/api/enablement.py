"""(being written)"""

from ninja import Router

enablement_router = Router(tags=["sales"])
