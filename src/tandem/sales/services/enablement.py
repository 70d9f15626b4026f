"""Sales enablement: reps attach or send marketing's sales-facing assets and rate them."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import services as crm_services
from tandem.crm.models import Contact
from tandem.crm.normalise import clean_choice, clean_int, clean_text
from tandem.errors import Forbidden, InvalidInput
from tandem.marketing.models import Audience, ContentAsset
from tandem.sales.models import ContentRating, ContentUse, ContentUseKind, Deal
from tandem.sales.queries.deals import deal_contacts

SALES_AUDIENCES = (Audience.ENABLEMENT, Audience.BOTH)


def check_sales_facing(asset: ContentAsset) -> None:
    """Refuse an asset that is market-facing only or archived (400 naming the asset)."""
    if asset.archived:
        raise InvalidInput(f"asset {asset.title!r} is archived", field="asset")
    if asset.audience not in SALES_AUDIENCES:
        raise InvalidInput(
            f"asset {asset.title!r} is market-facing only, not in the enablement library",
            field="asset",
        )


@transaction.atomic
def use_content(
    *,
    asset: ContentAsset,
    by: User,
    kind: str,
    deal: Deal | None = None,
    contact: Contact | None = None,
    note: str = "",
    at: datetime | None = None,
) -> ContentUse:
    """Record that a rep attached or sent an asset to a deal and/or contact (on their timelines)."""
    if not permissions.can_sell(by):
        raise Forbidden("only sales users may use enablement content")
    check_sales_facing(asset)
    kind = clean_choice(kind, field="kind", choices=list(ContentUseKind.values))
    note = clean_text(note, field="note", max_length=500)
    if deal is None and contact is None:
        raise InvalidInput("choose a deal or a contact to use the asset on", field="deal")
    if deal is not None and not permissions.can_edit(by, deal):
        raise Forbidden("you may not change this deal")
    if contact is not None and not permissions.can_view(by, contact):
        raise Forbidden("you may not see this contact")
    when = at or timezone.now()
    use = ContentUse.objects.create(
        asset=asset, deal=deal, contact=contact, kind=kind, user=by, note=note, used_at=when
    )
    # A contact named by hand receives it; else every contact of the deal (one is required above).
    recipients = [contact] if contact is not None else []
    if contact is None and deal is not None:
        recipients = [dc.contact for dc in deal_contacts(deal)]
    for recipient in recipients:
        crm_services.record_event(
            type="content_shared",
            idempotency_key=f"content_shared:{use.pk}:{recipient.pk}",
            occurred_at=when,
            contact=recipient,
            actor=by,
            properties={
                "asset_id": asset.pk,
                "title": asset.title,
                "kind": kind,
                "deal_id": deal.pk if deal is not None else None,
                "note": note,
            },
        )
    return use


@transaction.atomic
def rate_content(*, asset: ContentAsset, by: User, rating: int, comment: str = "") -> ContentRating:
    """Set the rep's 1 to 5 rating of an asset (one per rep; rating again replaces it)."""
    if not permissions.can_sell(by):
        raise Forbidden("only sales users may rate enablement content")
    check_sales_facing(asset)
    value = clean_int(rating, field="rating", minimum=1, maximum=5)
    if value is None:
        raise InvalidInput("rating is required (1 to 5)", field="rating")
    comment = clean_text(comment, field="comment", max_length=2000)
    row, _created = ContentRating.objects.update_or_create(
        asset=asset,
        user=by,
        defaults={"rating": value, "comment": comment, "rated_at": timezone.now()},
    )
    return row
