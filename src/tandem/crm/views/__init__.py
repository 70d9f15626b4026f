"""CRM pages: contact and company lists and records, activity logging, import and export.

Thin edges: each view parses input with a form, calls one service, and renders. Lists answer
htmx swaps with their table partial only (tandem.htmx.render_page). The views live in the
modules below; tandem.crm.urls reaches them all through this package.
"""

from tandem.crm.views.common import AuthedRequest
from tandem.crm.views.companies import (
    company_delete,
    company_detail,
    company_edit,
    company_list,
    company_new,
    company_timeline,
)
from tandem.crm.views.contact_record import (
    contact_complete_task,
    contact_delete,
    contact_detail,
    contact_edit,
    contact_log_activity,
    contact_merge,
    contact_stage,
    contact_timeline,
)
from tandem.crm.views.contacts import contact_export, contact_list, contact_new
from tandem.crm.views.imports import import_job, import_page

__all__ = [
    "AuthedRequest",
    "company_delete",
    "company_detail",
    "company_edit",
    "company_list",
    "company_new",
    "company_timeline",
    "contact_complete_task",
    "contact_delete",
    "contact_detail",
    "contact_edit",
    "contact_export",
    "contact_list",
    "contact_log_activity",
    "contact_merge",
    "contact_new",
    "contact_stage",
    "contact_timeline",
    "import_job",
    "import_page",
]
