"""The one NinjaAPI object: auth, error format, and the routers of every app."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tandem.analytics.api import analytics_router
from tandem.api.auth import ApiKeyAuth, BrowserSession
from tandem.crm.api import activities_router, companies_router, contacts_router
from tandem.errors import Conflict, DomainError, Forbidden
from tandem.leads.api import leads_router, scoring_router, segments_router
from tandem.marketing.api import campaigns_router
from tandem.sales.api import (
    deals_router,
    enablement_router,
    forecasts_router,
    insights_router,
    pipelines_router,
    quotas_router,
    sequences_router,
    tasks_router,
)
from tandem.tracking.api import router as events_router

api = NinjaAPI(
    title="Tandem API",
    version="1",
    description="Marketing and sales on one revenue platform. Auth: `Authorization: Bearer <api key>`.",
    auth=[ApiKeyAuth(), BrowserSession()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1_048_576
    return api.create_response(
        request, {"detail": f"the request body is larger than {limit} MB"}, status=413
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "missing or invalid API key"}, status=401)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc), "existing_id": exc.existing_id}, status=409
    )


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "not allowed"}, status=403)


@api.exception_handler(DomainError)
def _invalid(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.errors}, status=422)


api.add_router("/contacts", contacts_router)
api.add_router("/companies", companies_router)
api.add_router("/activities", activities_router)
api.add_router("/events", events_router)
api.add_router("/campaigns", campaigns_router)
api.add_router("/segments", segments_router)
api.add_router("/scoring", scoring_router)
api.add_router("/leads", leads_router)
api.add_router("/deals", deals_router)
api.add_router("/pipelines", pipelines_router)
api.add_router("/forecasts", forecasts_router)
api.add_router("/quotas", quotas_router)
api.add_router("/tasks", tasks_router)
api.add_router("/sequences", sequences_router)
api.add_router("/enablement", enablement_router)
api.add_router("/insights", insights_router)
api.add_router("/analytics", analytics_router)
