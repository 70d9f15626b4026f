"""CRM pages; included by tandem.web.urls, so the names live in the `web` namespace."""

from django.urls import path

from tandem.crm import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/export.csv", views.contact_export, name="contacts_export"),
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact"),
    path("contacts/<int:pk>/timeline/", views.contact_timeline, name="contact_timeline"),
    path("contacts/<int:pk>/activities/", views.contact_log_activity, name="contact_log_activity"),
    path(
        "contacts/<int:pk>/tasks/<int:activity_pk>/done/",
        views.contact_complete_task,
        name="contact_complete_task",
    ),
    path("contacts/<int:pk>/stage/", views.contact_stage, name="contact_stage"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="contact_merge"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("companies/", views.company_list, name="companies"),
    path("companies/new/", views.company_new, name="company_new"),
    path("companies/<int:pk>/", views.company_detail, name="company"),
    path("companies/<int:pk>/timeline/", views.company_timeline, name="company_timeline"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/delete/", views.company_delete, name="company_delete"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
]
