"""(being written)"""

from ninja import Router

sequences_router = Router(tags=["sales"])
