"""Customer insights: what reps hear from the market, recorded on deals and tagged."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm.models import Contact
from tandem.crm.normalise import clean_choice, clean_text
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Deal, Insight, InsightKind, InsightTag

MAX_TAGS = 10
TAG_MAX_LENGTH = 60


def normalise_tags(tags: Iterable[str] | str) -> list[str]:
    """Lower-cased, trimmed, inner spaces collapsed, blanks and repeats dropped, order kept."""
    if isinstance(tags, str):
        tags = tags.split(",")
    names: list[str] = []
    for raw in tags:
        name = re.sub(r"\s+", " ", clean_text(raw, field="tags", max_length=1000)).lower()
        if not name or name in names:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise InvalidInput(
                f"tag {name[:20]!r}… is longer than {TAG_MAX_LENGTH} characters", field="tags"
            )
        names.append(name)
    if len(names) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags per insight", field="tags")
    return names


@transaction.atomic
def record_insight(
    *,
    by: User,
    kind: str,
    text: str,
    deal: Deal | None = None,
    contact: Contact | None = None,
    competitor: str = "",
    tags: Iterable[str] = (),
    at: datetime | None = None,
) -> Insight:
    """Record an objection, pain point, competitor mention, request or praise, with tags."""
    if deal is not None:
        if not permissions.can_edit(by, deal):
            raise Forbidden("you may not change this deal")
    elif not permissions.can_sell(by):
        raise Forbidden("only sales users may record insights")
    if contact is not None and not permissions.can_view(by, contact):
        raise Forbidden("you may not see this contact")
    kind = clean_choice(kind, field="kind", choices=list(InsightKind.values))
    text = clean_text(text, field="text", max_length=5000, required=True)
    competitor = clean_text(competitor, field="competitor", max_length=120)
    if kind == InsightKind.COMPETITOR and not competitor:
        raise InvalidInput("a competitor mention needs the competitor's name", field="competitor")
    names = normalise_tags(tags)
    insight = Insight.objects.create(
        deal=deal,
        contact=contact,
        kind=kind,
        text=text,
        competitor=competitor,
        author=by,
        created_at=at or timezone.now(),
    )
    if names:
        insight.tags.set([InsightTag.objects.get_or_create(name=name)[0] for name in names])
    return insight
