"""The leads API: segments, scoring rules and the hand-off (routers registered in tandem.api)."""

from tandem.leads.api.leads import leads_router
from tandem.leads.api.scoring import scoring_router
from tandem.leads.api.segments import segments_router

__all__ = ["leads_router", "scoring_router", "segments_router"]
