"""Public landing pages (`/f/<slug>/`) and form submissions (`/f/<slug>/submit`), no login.

The hosted page and the embed fragment (?embed=1, fetched by static/tracking/forms.js on an
external site) render the same form markup from the server, so what a visitor sees, the
builder's preview and every embed agree, and all escaping happens in Django templates.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from tandem.marketing import utm
from tandem.marketing.forms_schema import CONSENT, PAGE_URL, REFERRER
from tandem.marketing.models import Form
from tandem.marketing.queries import forms as form_queries
from tandem.tracking import http, services, submissions

DONE_SALT = "tandem.form-done"
DONE_MAX_AGE = 24 * 3600
MAX_URL = 2000


def _published(slug: str) -> Form:
    form = form_queries.published_form(slug)
    if form is None:
        raise Http404("no such form")
    return form


def _origins(form: Form) -> list[str]:
    """The browser origins allowed to submit (and read the answers of) an embedded form."""
    source = form.source
    if source is None or source.revoked_at is not None:
        return []
    return [str(o) for o in source.origins or []]


def _submit_url(form: Form) -> str:
    return reverse("tracking:form_submit", args=[form.slug])


def _asset_url(request: HttpRequest, form: Form) -> str:
    """The gated asset's public link, when the form offers one that is still available."""
    asset = form.asset
    if asset is None or asset.archived:
        return ""
    return request.build_absolute_uri(reverse("tracking:content", args=[asset.public_token]))


def _done_token(form: Form) -> str:
    return signing.dumps(form.pk, salt=DONE_SALT)


def _is_done(request: HttpRequest, form: Form) -> bool:
    """A thank-you link this server signed for this form in the last day (no gated link for free)."""
    token = request.GET.get("done", "")
    if not token or len(token) > 200:
        return False
    try:
        return signing.loads(token, salt=DONE_SALT, max_age=DONE_MAX_AGE) == form.pk
    except signing.BadSignature:
        return False


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    return render(request, "tracking/landing.html", context, status=status)


@never_cache
@require_GET
def landing(request: HttpRequest, slug: str) -> HttpResponse:
    """A published form's landing page (its thank-you state after a submission, or ?embed=1)."""
    form = _published(slug)
    if request.GET.get("embed") == "1":
        # No page view: the embedding page's own tracking (tandem.js) records the visit.
        context = form_queries.landing_context(
            form, action=request.build_absolute_uri(_submit_url(form))
        )
        response = render(request, "tracking/landing_embed.html", context)
        return http.allow_cors(response, request, _origins(form))
    if _is_done(request, form):
        context = {"tform": form, "thanks": True, "asset_url": _asset_url(request, form)}
        return _page(request, **context)
    anonymous_id, new = http.visitor_id(request)
    url = request.build_absolute_uri()[:MAX_URL]
    referrer = request.headers.get("Referer", "")[:MAX_URL]
    services.record_server_event(
        type="page_view",
        anonymous_id=anonymous_id,
        properties={"form_id": form.pk, "form_name": form.name},
        context={"url": url, "referrer": referrer, "utm": utm.utm_from_url(url)},
    )
    # Never pre-filled, even for a visitor we know: the context holds no contact at all.
    context = form_queries.landing_context(
        form, action=_submit_url(form), page_url=url, referrer=referrer
    )
    response = _page(request, **context)
    if new:
        http.remember_visitor(response, request, anonymous_id)
    return response


def _wants_json(request: HttpRequest) -> bool:
    """forms.js asks for JSON; a plain HTML form post (hosted page, no script) gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def _refuse(
    request: HttpRequest, form: Form, message: str, status: int, origins: list[str]
) -> HttpResponse:
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"errors": {"form": message}}, status=status)
    elif status == 429:
        response = _page_again(
            request,
            form,
            errors={"form": message},
            page_url=str(request.POST.get(PAGE_URL, ""))[:MAX_URL],
            referrer=str(request.POST.get(REFERRER, ""))[:MAX_URL],
            status=status,
        )
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    if status == 429:
        response["Retry-After"] = "60"
    return http.allow_cors(response, request, origins)


def _succeeded(request: HttpRequest, form: Form, origins: list[str]) -> HttpResponse:
    """What a submission (or a bot we pretend to thank) gets back."""
    if _wants_json(request):
        body = {"ok": True, "message": form.thank_you, "asset_url": _asset_url(request, form)}
        return http.allow_cors(JsonResponse(body), request, origins)
    # 303: the browser follows with a GET, so a reload never posts the form again.
    response = HttpResponseRedirect(
        f"{reverse('tracking:landing', args=[form.slug])}?done={_done_token(form)}"
    )
    response.status_code = 303
    return response


# CSRF-exempt on purpose: embedded forms post here from other sites, which can never hold our
# CSRF cookie. CSRF protects a signed-in user's authority; this endpoint grants none (it needs
# no session and ignores who is signed in), and browsers from origins other than ours and the
# form's source origins are refused below.
@csrf_exempt
@never_cache
@require_http_methods(["POST", "OPTIONS"])
def form_submit(request: HttpRequest, slug: str) -> HttpResponse:
    """Take a submission: origin check, per-IP rate limit, honeypot, validation, then record it."""
    form = _published(slug)
    origins = _origins(form)
    if not http.origin_allowed(request, origins):
        origin = http.request_origin(request) or ""
        return _refuse(
            request, form, f"This form does not accept submissions from {origin[:100]}.", 403, []
        )
    if request.method == "OPTIONS":
        return http.allow_cors(HttpResponse(status=204), request, origins)
    ip = http.client_ip(request)
    if submissions.rate_limited(ip):
        return _refuse(request, form, submissions.RATE_MESSAGE, 429, origins)
    data = request.POST
    if submissions.is_bot(data):
        return _succeeded(request, form, origins)
    browser_origin = http.request_origin(request)
    visit = submissions.visit_from(
        data,
        ip=ip,
        user_agent=request.headers.get("User-Agent", ""),
        origin="hosted"
        if browser_origin in (None, http.own_origin(request))
        else str(browser_origin),
        cookie_id=request.COOKIES.get(http.ANONYMOUS_COOKIE, ""),
        page_fallback=request.headers.get("Referer", ""),
    )
    try:
        submissions.submit_form(form=form, data=data, visit=visit)
    except submissions.SubmissionInvalid as invalid:
        return _invalid(request, form, invalid.errors, visit, origins)
    return _succeeded(request, form, origins)


def _invalid(
    request: HttpRequest,
    form: Form,
    errors: dict[str, str],
    visit: submissions.Visit,
    origins: list[str],
) -> HttpResponse:
    """Per-field errors: JSON for forms.js, else the page again with the visitor's answers."""
    if _wants_json(request):
        return http.allow_cors(JsonResponse({"errors": errors}, status=400), request, origins)
    return _page_again(
        request, form, errors=errors, page_url=visit.page_url, referrer=visit.referrer, status=400
    )


def _page_again(
    request: HttpRequest,
    form: Form,
    *,
    errors: dict[str, str],
    page_url: str,
    referrer: str,
    status: int,
) -> HttpResponse:
    """The hosted page once more with the visitor's answers and what stopped them."""
    context = form_queries.landing_context(
        form,
        action=_submit_url(form),
        values=request.POST.dict(),
        errors=errors,
        page_url=page_url,
        referrer=referrer,
        consent_given=bool(request.POST.get(CONSENT)),
    )
    return _page(request, status=status, **context)
