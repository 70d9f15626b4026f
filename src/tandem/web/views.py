"""Shell pages: health, sign-in, home. Feature pages live in their own modules."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: answers 503 when the database or queue cannot be reached."""
    status, db_state, queue_state = 200, "ok", "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means "down" to a health check
        status, db_state = 503, "unavailable"
    try:
        settings.HUEY.storage.queue_size()
    except Exception:
        status, queue_state = 503, "unavailable"
    body = {
        "status": "ok" if status == 200 else "degraded",
        "database": f"{connection.vendor}: {db_state}",
        "queue": f"{settings.QUEUE_URL_DESCRIPTION}: {queue_state}",
    }
    return JsonResponse(body, status=status)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    """Send signed-in users to their contacts."""
    return redirect("web:contacts")
