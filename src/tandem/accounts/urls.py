"""Account pages; included by tandem.web.urls under settings/, names in the `web` namespace."""

from django.urls import path

from tandem.accounts import views

urlpatterns = [
    path("api-keys/", views.api_keys, name="apikeys"),
    path("api-keys/<int:pk>/revoke/", views.revoke_api_key, name="apikey_revoke"),
]
