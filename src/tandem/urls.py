"""Root URL map."""

from django.contrib import admin
from django.urls import include, path

from tandem.api.api import api
from tandem.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    # Public, unauthenticated: tracking pixel, click redirects, content links, landing pages.
    path("", include("tandem.tracking.urls")),
    path("", include("tandem.web.urls")),
]
