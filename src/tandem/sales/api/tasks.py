"""(being written)"""

from ninja import Router

tasks_router = Router(tags=["sales"])
