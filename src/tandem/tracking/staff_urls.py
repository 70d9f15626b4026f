"""Tracking source pages for staff; included by tandem.web.urls under `marketing/sources/`."""

from django.urls import path

from tandem.tracking.views import sources

urlpatterns = [
    path("", sources.source_list, name="sources"),
    path("new/", sources.source_new, name="source_new"),
    path("<int:pk>/", sources.source_detail, name="source"),
    path("<int:pk>/edit/", sources.source_edit, name="source_edit"),
    path("<int:pk>/rotate/", sources.source_rotate, name="source_rotate"),
    path("<int:pk>/revoke/", sources.source_revoke, name="source_revoke"),
    path("<int:pk>/live/", sources.source_live, name="source_live"),
]
