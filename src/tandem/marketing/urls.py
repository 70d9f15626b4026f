"""Marketing pages; included by tandem.web.urls under `marketing/`, names in the `web` namespace."""

# One block per area; each view module owns its block.
urlpatterns = [
    # campaigns
    # personas
    # content
    # forms
    # sources
]
