"""Marketing pages; included by tandem.web.urls under `marketing/`, names in the `web` namespace."""

from django.urls import URLPattern, path

from tandem.marketing.views import campaigns, content, forms, personas

# One block per area; each view module owns its block.
urlpatterns: list[URLPattern] = [
    # campaigns
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path(
        "campaigns/costs/import/",
        campaigns.campaign_costs_import,
        name="campaign_costs_import",
    ),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/delete/", campaigns.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/utm/", campaigns.campaign_utm, name="campaign_utm"),
    path("campaigns/<int:pk>/costs/", campaigns.campaign_cost_add, name="campaign_cost_add"),
    path(
        "campaigns/<int:pk>/costs/<int:cost_pk>/delete/",
        campaigns.campaign_cost_delete,
        name="campaign_cost_delete",
    ),
    path("campaigns/<int:pk>/links/", campaigns.campaign_link_add, name="campaign_link_add"),
    # personas
    path("personas/", personas.persona_list, name="personas"),
    path("personas/new/", personas.persona_new, name="persona_new"),
    path("personas/preview/", personas.persona_preview, name="persona_preview"),
    path("personas/<int:pk>/", personas.persona_detail, name="persona"),
    path("personas/<int:pk>/edit/", personas.persona_edit, name="persona_edit"),
    path("personas/<int:pk>/assign/", personas.persona_assign, name="persona_assign"),
    path("personas/<int:pk>/delete/", personas.persona_delete, name="persona_delete"),
    # content
    path("content/", content.content_list, name="content"),
    path("content/new/", content.content_new, name="content_new"),
    path("content/<int:pk>/", content.content_detail, name="content_asset"),
    path("content/<int:pk>/edit/", content.content_edit, name="content_edit"),
    path("content/<int:pk>/file/", content.content_file, name="content_file"),
    path("content/<int:pk>/archive/", content.content_archive, name="content_archive"),
    path("content/<int:pk>/delete/", content.content_delete, name="content_delete"),
    # forms
    path("forms/", forms.form_list, name="forms"),
    path("forms/new/", forms.form_new, name="form_new"),
    path("forms/<int:pk>/", forms.form_detail, name="form"),
    path("forms/<int:pk>/edit/", forms.form_edit, name="form_edit"),
    path("forms/<int:pk>/status/", forms.form_status, name="form_status"),
    path("forms/<int:pk>/preview/", forms.form_preview, name="form_preview"),
    path("forms/<int:pk>/fields/", forms.form_field_add, name="form_field_add"),
    path("forms/<int:pk>/fields/<int:field_pk>/", forms.form_field_edit, name="form_field_edit"),
    path(
        "forms/<int:pk>/fields/<int:field_pk>/move/", forms.form_field_move, name="form_field_move"
    ),
    path(
        "forms/<int:pk>/fields/<int:field_pk>/delete/",
        forms.form_field_delete,
        name="form_field_delete",
    ),
    path("forms/<int:pk>/submissions/", forms.form_submissions, name="form_submissions"),
    path(
        "forms/<int:pk>/submissions.csv",
        forms.form_submissions_export,
        name="form_submissions_export",
    ),
]
