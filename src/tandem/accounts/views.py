"""Account pages: the signed-in user's API keys (list, create with the raw key shown once, revoke)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from tandem.accounts import queries, services
from tandem.accounts.models import ApiKey, User


class AuthedRequest(HttpRequest):
    """A request behind login_required: its user is a real account."""

    user: User


class ApiKeyForm(forms.Form):
    """A label for a new key, so its owner can tell keys apart later."""

    name = forms.CharField(required=False, max_length=120, label="Name")


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: AuthedRequest) -> HttpResponse:
    """List the user's keys; a POST creates one and shows its raw value this once."""
    form = ApiKeyForm(request.POST or None)
    raw_key, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            _, raw_key = services.create_api_key(
                user=request.user, name=form.cleaned_data["name"].strip()
            )
            form = ApiKeyForm()
        else:
            status = 422
    context = {"form": form, "keys": list(queries.api_keys_of(request.user)), "raw_key": raw_key}
    response = render(request, "accounts/api_keys.html", context, status=status)
    # The raw key must not linger in a browser or proxy cache.
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def revoke_api_key(request: AuthedRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own keys (someone else's key is a 404)."""
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    services.revoke_api_key(key=key)
    messages.success(request, f"Key {key.prefix}… revoked.")
    return redirect("web:apikeys")
