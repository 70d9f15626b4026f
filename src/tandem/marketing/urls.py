"""Marketing pages; included by tandem.web.urls under `marketing/`, names in the `web` namespace."""

from django.urls import URLPattern, path  # noqa: F401 (blocks below use path)

from tandem.marketing.views import campaigns, content, forms, personas  # noqa: F401

# One block per area; each view module owns its block.
urlpatterns: list[URLPattern] = [
    # campaigns
    # personas
    # content
    # forms
]
