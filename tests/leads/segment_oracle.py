"""A plain-Python evaluator of segment definitions: the reference the compiled SQL must match.

It reads every row into memory and walks the tree per contact, written from the grammar's
documented meaning (docs/leads.md "Segments"), not from the compiler. Tests only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tandem.crm.models import Contact, TimelineEvent
from tandem.leads.models import LeadScore
from tandem.marketing.models import FormSubmission, Touchpoint

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = str.maketrans(_UPPER, _UPPER.lower())
CONTENT = ("content_view", "content_download")
MISSING = object()


def al(text: str) -> str:
    return text.translate(_LOWER)


@dataclass
class Snapshot:
    contacts: list[dict[str, Any]]
    events: dict[int, list[TimelineEvent]] = field(default_factory=dict)
    touches: dict[int, list[Touchpoint]] = field(default_factory=dict)
    submissions: dict[int, list[FormSubmission]] = field(default_factory=dict)


def snapshot() -> Snapshot:
    """Every contact with its values, events, touches and form submissions, in memory."""
    scores = {s.contact_id: s for s in LeadScore.objects.all()}
    contacts = []
    for c in Contact.objects.select_related("company", "owner").order_by("pk"):
        co, ls = c.company, scores.get(c.pk)
        values = {
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "title": c.title,
            "lifecycle_stage": c.lifecycle_stage,
            "lead_status": c.lead_status,
            "persona": c.persona_id,
            "owner": c.owner.username if c.owner else None,
            "team": c.team_id,
            "subscription_status": c.subscription_status,
            "original_source": c.original_source,
            "score": c.score,
            "fit_score": ls.fit if ls else 0,
            "engagement_score": ls.engagement if ls else 0,
            "probability": ls.probability if ls else None,
            "created_at": c.created_at,
            "last_activity_at": c.last_activity_at,
        }
        for name in (
            "name",
            "domain",
            "industry",
            "employees",
            "annual_revenue",
            "country",
            "region",
        ):
            values[f"company.{name}"] = getattr(co, name) if co else None
        contacts.append({"id": c.pk, "values": values})
    snap = Snapshot(contacts=contacts)
    for table, bucket in (
        (TimelineEvent.objects.all(), snap.events),
        (Touchpoint.objects.all(), snap.touches),
        (FormSubmission.objects.all(), snap.submissions),
    ):
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in table:
            if row.contact_id is not None:
                grouped[row.contact_id].append(row)
        bucket.update(grouped)
    return snap


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text_op(op: str, have: Any, want: Any) -> bool:
    if op == "is_empty":
        return have is None or have == ""
    if have is None:
        return False
    if op == "eq":
        return al(have) == al(want)
    if op == "contains":
        return al(want) in al(have)
    if op == "starts_with":
        return al(have).startswith(al(want))
    return al(have) in {al(w) for w in want}


def _number_op(op: str, have: Any, want: Any, decimal: bool) -> bool:
    if op == "is_empty":
        return have is None
    if have is None:
        return False
    if decimal:
        want = [Decimal(str(w)) for w in want] if isinstance(want, list) else Decimal(str(want))
    if op == "between":
        return want[0] <= have <= want[1]
    return {
        "eq": have == want,
        "gt": have > want,
        "gte": have >= want,
        "lt": have < want,
        "lte": have <= want,
    }[op]


def _date_op(op: str, have: datetime | None, want: Any, now: datetime) -> bool:
    if op == "is_empty":
        return have is None
    if have is None:
        return False
    if op == "within_last_days":
        return have >= now - timedelta(days=want)
    moment = datetime.fromisoformat(want)
    return have < moment if op == "before" else have > moment


KINDS = {
    "text": {
        "email",
        "first_name",
        "last_name",
        "title",
        "company.name",
        "company.domain",
        "company.industry",
        "company.country",
        "company.region",
    },
    "number": {
        "score",
        "fit_score",
        "engagement_score",
        "probability",
        "company.employees",
        "company.annual_revenue",
    },
    "date": {"created_at", "last_activity_at"},
}
NEGATIONS = {"neq": "eq", "not_in": "in", "is_not_empty": "is_empty"}


def _field(node: dict[str, Any], values: dict[str, Any], now: datetime) -> bool:
    name, op, want = node["field"], node["op"], node.get("value")
    if op in NEGATIONS:
        return not _field({**node, "op": NEGATIONS[op]}, values, now)
    have = values[name]
    if name in KINDS["text"]:
        return _text_op(op, have, want)
    if name in KINDS["number"]:
        return _number_op(op, have, want, name == "company.annual_revenue")
    if name in KINDS["date"]:
        return _date_op(op, have, want, now)
    return have in want if op == "in" else have == want


def _property(flt: dict[str, Any], props: Any) -> bool:
    op, want = flt["op"], flt["value"]
    if op == "neq":
        return not _property({**flt, "op": "eq"}, props)
    have = props.get(flt["property"], MISSING) if isinstance(props, dict) else MISSING
    if op == "contains":
        return isinstance(have, str) and al(want) in al(have)
    if op == "eq":
        if isinstance(want, str):
            return isinstance(have, str) and al(have) == al(want)
        if isinstance(want, bool):
            return isinstance(have, bool) and have == want
        return _is_number(have) and have == want
    if not _is_number(have):
        return False
    return {"gt": have > want, "gte": have >= want, "lt": have < want, "lte": have <= want}[op]


def _since(node: dict[str, Any], now: datetime) -> datetime | None:
    days = node.get("within_days")
    return None if days is None else now - timedelta(days=days)


def _behaviour(node: dict[str, Any], cid: int, snap: Snapshot, now: datetime) -> bool:
    since = _since(node, now)

    def recent(at: datetime) -> bool:
        return since is None or at >= since

    if "event" in node:
        hits = [
            e
            for e in snap.events.get(cid, [])
            if e.type == node["event"]
            and recent(e.occurred_at)
            and all(_property(f, e.properties) for f in node.get("where") or [])
        ]
        return len(hits) >= (node.get("min_count") or 1)
    if "touched" in node:
        target = node["touched"]
        return any(
            recent(t.occurred_at)
            and (
                t.campaign_id == target["campaign"]
                if "campaign" in target
                else t.channel == target["channel"]
            )
            for t in snap.touches.get(cid, [])
        )
    if "submitted_form" in node:
        form = node["submitted_form"]
        return any(
            recent(s.submitted_at) and (form is None or s.form_id == form)
            for s in snap.submissions.get(cid, [])
        )
    asset = node["viewed_content"]
    return any(
        e.type in CONTENT
        and recent(e.occurred_at)
        and (
            asset is None
            or _property({"property": "asset_id", "op": "eq", "value": asset}, e.properties)
        )
        for e in snap.events.get(cid, [])
    )


def holds(node: dict[str, Any], contact: dict[str, Any], snap: Snapshot, now: datetime) -> bool:
    if "all" in node:
        return all(holds(n, contact, snap, now) for n in node["all"])
    if "any" in node:
        return any(holds(n, contact, snap, now) for n in node["any"])
    if "not" in node:
        return not holds(node["not"], contact, snap, now)
    if "field" in node:
        return _field(node, contact["values"], now)
    return _behaviour(node, contact["id"], snap, now)


def select(definition: dict[str, Any], snap: Snapshot, now: datetime) -> set[int]:
    """The ids of the contacts the definition selects, by plain Python."""
    return {c["id"] for c in snap.contacts if holds(definition, c, snap, now)}
