"""Placeholder replaced by the module's owner."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
