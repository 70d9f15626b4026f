"""(being written)"""

from ninja import Router

deals_router = Router(tags=["sales"])
pipelines_router = Router(tags=["sales"])
