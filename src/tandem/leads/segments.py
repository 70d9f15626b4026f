"""Segment definitions: the grammar's allow-lists, validation, the Q compiler and descriptions.

A definition is a JSON tree (see docs/leads.md "Segments"):

    node := {"all": [node, ...]} | {"any": [node, ...]} | {"not": node}
          | {"field": NAME, "op": OP, "value": V}
          | {"event": TYPE, "where": [{"property": KEY, "op": OP, "value": V}],
             "min_count": N, "within_days": D}
          | {"touched": {"campaign": ID} | {"channel": CHANNEL}, "within_days": D}
          | {"submitted_form": FORM_ID | null, "within_days": D}
          | {"viewed_content": ASSET_ID | null, "within_days": D}

Intuition for the compiler: every leaf becomes a condition that is TRUE or FALSE for every
contact, never SQL's UNKNOWN. Nullable columns are guarded (`col IS NOT NULL AND ...`), and
everything outside the contact row (company, owner, lead score, events, touches, forms) is an
EXISTS or a NULL-free IN subquery, which is never UNKNOWN either. With two-valued leaves, `not`
is plain SQL NOT and means exactly "the contacts the inner node does not select" — a contact
without a company is selected by {"not": {"field": "company.name", "op": "eq", ...}}, as a
reader expects. The tree becomes one Q over crm.Contact with no joins (so OR branches never
lose contacts to an inner join) and one SQL statement evaluates it.

Field names, operators, event types, channels and property keys come only from the allow-lists
below; values reach SQL as parameters. Text comparisons ignore the case of ASCII letters A-Z
only (SQLite's LOWER() knows no more), so both databases select the same contacts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import and_, or_
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.lookups import Contains, Exact, In, StartsWith
from django.utils import timezone

from tandem.accounts.models import Team
from tandem.crm.models import (
    Company,
    Contact,
    LeadStatus,
    LifecycleStage,
    Source,
    SubscriptionStatus,
    TimelineEvent,
)
from tandem.errors import InvalidInput
from tandem.leads.models import LeadScore
from tandem.marketing.models import (
    Campaign,
    Channel,
    ContentAsset,
    Form,
    FormSubmission,
    Persona,
    Touchpoint,
)

MAX_DEPTH = 8
MAX_NODES = 100
MAX_WHERE = 10
MAX_VALUES = 100
MAX_TEXT = 255
MAX_DAYS = 3650
MAX_MIN_COUNT = 1000
MAX_ID = 2**63 - 1
# Beyond 2**53 floats lose integers; no count, score or head-count is anywhere near it.
MAX_NUMBER = 2**53
PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CUSTOM_EVENT = re.compile(r"^custom:[A-Za-z0-9_.-]{1,64}$")
CONTENT_EVENTS = ("content_view", "content_download")

EVENT_TYPES: dict[str, str] = {
    "page_view": "Page viewed",
    "form_submit": "Form submitted",
    "content_view": "Content viewed",
    "content_download": "Content downloaded",
    "link_click": "Link clicked",
    "email_open": "Email opened",
    "email_click": "Email link clicked",
    "email_sent": "Email sent",
    "contact_created": "Contact created",
    "lifecycle_stage_changed": "Lifecycle stage changed",
    "activity_note": "Note logged",
    "activity_call": "Call logged",
    "activity_meeting": "Meeting logged",
    "activity_task": "Task logged",
    "activity_email": "Email logged",
    "task_completed": "Task completed",
    "contact_merged": "Duplicate merged in",
}

OPERATORS: dict[str, str] = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "is one of",
    "not_in": "is none of",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "before": "is before",
    "after": "is after",
    "within_last_days": "is within the last N days",
}
# Each negative operator is exactly NOT its positive twin.
NEGATIONS = {"neq": "eq", "not_in": "in", "is_not_empty": "is_empty"}
PROPERTY_OPS = ("eq", "neq", "contains", "gt", "gte", "lt", "lte")
OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("eq", "neq", "contains", "starts_with", "in", "not_in", "is_empty", "is_not_empty"),
    "number": ("eq", "neq", "gt", "gte", "lt", "lte", "between", "is_empty", "is_not_empty"),
    "choice": ("eq", "neq", "in", "not_in"),
    "date": ("before", "after", "within_last_days", "is_empty", "is_not_empty"),
}
NO_VALUE_OPS = ("is_empty", "is_not_empty")


@dataclass(frozen=True)
class SegmentField:
    """One field a condition may test.

    `where` says where the value lives: "contact" (a Contact column), "company" (a Company
    column of the contact's company; no company means no value), "score" (a LeadScore column,
    `default` when the contact has no LeadScore row), "owner" (the owner's username).
    `value` is the value type: str, int, float, decimal, id (a record id) or choice.
    """

    label: str
    kind: str
    where: str
    column: str
    value: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    default: int | None = None


FIELDS: dict[str, SegmentField] = {
    "email": SegmentField("Email", "text", "contact", "email", "str"),
    "first_name": SegmentField("First name", "text", "contact", "first_name", "str"),
    "last_name": SegmentField("Last name", "text", "contact", "last_name", "str"),
    "title": SegmentField("Job title", "text", "contact", "title", "str"),
    "lifecycle_stage": SegmentField(
        "Lifecycle stage",
        "choice",
        "contact",
        "lifecycle_stage",
        "choice",
        choices=tuple(LifecycleStage.values),
    ),
    "lead_status": SegmentField(
        "Lead status",
        "choice",
        "contact",
        "lead_status",
        "choice",
        choices=("", *LeadStatus.values),
    ),
    "persona": SegmentField("Persona", "choice", "contact", "persona_id", "id", nullable=True),
    "owner": SegmentField("Owner", "choice", "owner", "owner_id", "username", nullable=True),
    "team": SegmentField("Team", "choice", "contact", "team_id", "id", nullable=True),
    "subscription_status": SegmentField(
        "Subscription status",
        "choice",
        "contact",
        "subscription_status",
        "choice",
        choices=tuple(SubscriptionStatus.values),
    ),
    "original_source": SegmentField(
        "Original source",
        "choice",
        "contact",
        "original_source",
        "choice",
        choices=tuple(Source.values),
    ),
    "score": SegmentField("Lead score", "number", "contact", "score", "int"),
    "fit_score": SegmentField("Fit score", "number", "score", "fit", "int", default=0),
    "engagement_score": SegmentField(
        "Engagement score", "number", "score", "engagement", "int", default=0
    ),
    "probability": SegmentField(
        "Predicted probability", "number", "score", "probability", "float", nullable=True
    ),
    "created_at": SegmentField("Created", "date", "contact", "created_at", "date"),
    "last_activity_at": SegmentField(
        "Last activity", "date", "contact", "last_activity_at", "date", nullable=True
    ),
    "company.name": SegmentField("Company name", "text", "company", "name", "str"),
    "company.domain": SegmentField(
        "Company domain", "text", "company", "domain", "str", nullable=True
    ),
    "company.industry": SegmentField("Company industry", "text", "company", "industry", "str"),
    "company.employees": SegmentField(
        "Company employees", "number", "company", "employees", "int", nullable=True
    ),
    "company.annual_revenue": SegmentField(
        "Company annual revenue",
        "number",
        "company",
        "annual_revenue",
        "decimal",
        nullable=True,
    ),
    "company.country": SegmentField("Company country", "text", "company", "country", "str"),
    "company.region": SegmentField("Company region", "text", "company", "region", "str"),
}

LEAF_KEYS: dict[str, frozenset[str]] = {
    "field": frozenset({"field", "op", "value"}),
    "event": frozenset({"event", "where", "min_count", "within_days"}),
    "touched": frozenset({"touched", "within_days"}),
    "submitted_form": frozenset({"submitted_form", "within_days"}),
    "viewed_content": frozenset({"viewed_content", "within_days"}),
}
KINDS = ("all", "any", "not", *LEAF_KEYS)


# ---------------------------------------------------------------- validation


def _fail(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path or 'definition'}: {message}", field="definition")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    """A user's value quoted for an error message, bounded."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(value: Any, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"{_show(value)} is not text")
    if not value and not allow_empty:
        raise _fail(path, "must not be empty")
    if len(value) > MAX_TEXT:
        raise _fail(path, f"is longer than {MAX_TEXT} characters")
    if "\x00" in value:
        raise _fail(path, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(path, "contains an invalid character") from None
    return value


def _int(value: Any, path: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"{_show(value)} is not a whole number")
    if not low <= value <= high:
        raise _fail(path, f"must be between {low} and {high}")
    return value


def _record_id(value: Any, path: str) -> int:
    return _int(value, path, low=1, high=MAX_ID)


def _number(value: Any, path: str, kind: str) -> int | float:
    if kind == "int":
        return _int(value, path, low=-MAX_NUMBER, high=MAX_NUMBER)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"{_show(value)} is not a number")
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise _fail(path, f"must be a finite number between {-MAX_NUMBER} and {MAX_NUMBER}")
    # A decimal column keeps two decimals: a finer value would be rounded by the database.
    if kind == "decimal" and Decimal(str(value)).as_tuple().exponent < -2:  # type: ignore[operator]
        raise _fail(path, "must have at most 2 decimal places")
    return value


def _when(value: Any, path: str) -> str:
    """An ISO date or date-time as an ISO date-time in UTC (a date is its midnight UTC)."""
    if not isinstance(value, str) or len(value) > 40:
        raise _fail(path, f"{_show(value)} is not an ISO date or date-time")
    try:
        moment = (
            datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
            if len(value) == 10
            else datetime.fromisoformat(value)
        )
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _fail(path, f"{_show(value)} is not an ISO date or date-time") from None
    return moment.isoformat()


def _days(node: dict[str, Any], path: str) -> int | None:
    value = node.get("within_days")
    if value is None:
        return None
    return _int(value, _join(path, "within_days"), low=1, high=MAX_DAYS)


def _choice_value(spec: SegmentField, value: Any, path: str) -> Any:
    if spec.value == "id":
        return None if value is None else _record_id(value, path)
    if spec.value == "username":
        return None if value is None else _text(value, path)
    if not isinstance(value, str) or value not in spec.choices:
        shown = ", ".join(c or '""' for c in spec.choices)
        raise _fail(path, f"{_show(value)} is not one of {shown}")
    return value


def _field_value(spec: SegmentField, op: str, value: Any, path: str) -> Any:
    """The validated, normalised value of a field condition."""
    if op in NO_VALUE_OPS:
        if value is not None:
            raise _fail(path, f"{op} takes no value")
        return None
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise _fail(path, f"{op} needs a non-empty list of values")
        if len(value) > MAX_VALUES:
            raise _fail(path, f"at most {MAX_VALUES} values")
        one = _choice_value if spec.kind == "choice" else _text_value
        return [one(spec, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if spec.kind == "text":
        return _text_value(spec, value, path)
    if spec.kind == "choice":
        return _choice_value(spec, value, path)
    if spec.kind == "number":
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise _fail(path, "between needs a list of two numbers [low, high]")
            low = _number(value[0], f"{path}[0]", spec.value)
            high = _number(value[1], f"{path}[1]", spec.value)
            if low > high:
                raise _fail(path, "the low end is above the high end")
            return [low, high]
        return _number(value, path, spec.value)
    if op == "within_last_days":
        return _int(value, path, low=1, high=MAX_DAYS)
    return _when(value, path)


def _text_value(spec: SegmentField, value: Any, path: str) -> str:
    return _text(value, path)


def _validate_field(node: dict[str, Any], path: str) -> dict[str, Any]:
    name = node.get("field")
    if not isinstance(name, str) or name not in FIELDS:
        raise _fail(
            _join(path, "field"),
            f"{_show(name)} is not a segment field; choose one of {', '.join(FIELDS)}",
        )
    spec = FIELDS[name]
    op = node.get("op")
    ops = OPS_BY_KIND[spec.kind]
    if not isinstance(op, str) or op not in ops:
        raise _fail(
            _join(path, "op"),
            f"{_show(op)} is not an operator for {name}; choose one of {', '.join(ops)}",
        )
    if op not in NO_VALUE_OPS and "value" not in node:
        raise _fail(_join(path, "value"), f"{op} needs a value")
    value = _field_value(spec, op, node.get("value"), _join(path, "value"))
    return {"field": name, "op": op, "value": value}


def _property_value(op: str, value: Any, path: str) -> Any:
    if op in ("eq", "neq"):
        if isinstance(value, str):
            return _text(value, path, allow_empty=True)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return _number(value, path, "float")
        raise _fail(path, f"{_show(value)} is not text, a number or true/false")
    if op == "contains":
        return _text(value, path)
    return _number(value, path, "float")


def _validate_where(raw: Any, path: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(path, "must be a list of property filters")
    if len(raw) > MAX_WHERE:
        raise _fail(path, f"at most {MAX_WHERE} property filters")
    out = []
    for i, item in enumerate(raw):
        here = f"{path}[{i}]"
        if not isinstance(item, dict):
            raise _fail(here, "must be an object with property, op and value")
        extra = set(item) - {"property", "op", "value"}
        if extra:
            raise _fail(here, f"unknown key {_show(sorted(extra)[0])}")
        key = item.get("property")
        if not isinstance(key, str) or not PROPERTY_KEY.match(key):
            raise _fail(
                _join(here, "property"),
                f"{_show(key)} is not a property key (1-64 of A-Z a-z 0-9 _ . -)",
            )
        try:
            int(key)
        except ValueError:
            pass
        else:
            # The JSON path of a number is an array index, not an object key.
            raise _fail(_join(here, "property"), f"{_show(key)}: a property key cannot be a number")
        op = item.get("op")
        if not isinstance(op, str) or op not in PROPERTY_OPS:
            raise _fail(
                _join(here, "op"),
                f"{_show(op)} is not a property operator; choose one of {', '.join(PROPERTY_OPS)}",
            )
        if "value" not in item:
            raise _fail(_join(here, "value"), f"{op} needs a value")
        value = _property_value(op, item["value"], _join(here, "value"))
        out.append({"property": key, "op": op, "value": value})
    return out


def _event_type(value: Any, path: str) -> str:
    if isinstance(value, str) and (value in EVENT_TYPES or CUSTOM_EVENT.match(value)):
        return value
    raise _fail(
        path,
        f"{_show(value)} is not an event type; choose one of {', '.join(EVENT_TYPES)} "
        "or custom:<name>",
    )


class _Counter:
    def __init__(self) -> None:
        self.nodes = 0

    def tick(self, path: str, n: int = 1) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise _fail(path, f"a definition has at most {MAX_NODES} conditions and groups")


def _validate(node: Any, path: str, depth: int, counter: _Counter) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise _fail(path, f"groups nest at most {MAX_DEPTH} levels deep")
    counter.tick(path)
    if not isinstance(node, dict):
        raise _fail(path, "must be an object (a group or a condition)")
    kinds = [k for k in KINDS if k in node]
    if len(kinds) != 1:
        if not kinds:
            unknown = sorted(node)[:1]
            hint = f"unknown key {_show(unknown[0])}; " if unknown else ""
            raise _fail(path, f"{hint}expected one of {', '.join(KINDS)}")
        raise _fail(path, f"has both {kinds[0]!r} and {kinds[1]!r}; use one per object")
    kind = kinds[0]
    allowed = LEAF_KEYS.get(kind, frozenset({kind}))
    extra = set(node) - allowed
    if extra:
        raise _fail(_join(path, sorted(extra)[0]), f"unknown key for a {kind!r} object")
    if kind in ("all", "any"):
        children = node[kind]
        if not isinstance(children, list) or not children:
            raise _fail(_join(path, kind), "needs a non-empty list of conditions")
        return {
            kind: [
                _validate(child, f"{_join(path, kind)}[{i}]", depth + 1, counter)
                for i, child in enumerate(children)
            ]
        }
    if kind == "not":
        return {"not": _validate(node["not"], _join(path, "not"), depth + 1, counter)}
    if kind == "field":
        return _validate_field(node, path)
    days = _days(node, path)
    if kind == "event":
        where = _validate_where(node.get("where"), _join(path, "where"))
        counter.tick(path, len(where))
        min_count = node.get("min_count")
        return {
            "event": _event_type(node["event"], _join(path, "event")),
            "where": where,
            "min_count": 1
            if min_count is None
            else _int(min_count, _join(path, "min_count"), low=1, high=MAX_MIN_COUNT),
            "within_days": days,
        }
    if kind == "touched":
        target = node["touched"]
        here = _join(path, "touched")
        if not isinstance(target, dict) or len(target) != 1:
            raise _fail(here, 'must be {"campaign": ID} or {"channel": CHANNEL}')
        if "campaign" in target:
            touched: dict[str, Any] = {
                "campaign": _record_id(target["campaign"], here + ".campaign")
            }
        elif "channel" in target:
            channel = target["channel"]
            if not isinstance(channel, str) or channel not in Channel.values:
                raise _fail(
                    here + ".channel",
                    f"{_show(channel)} is not a channel; choose one of {', '.join(Channel.values)}",
                )
            touched = {"channel": channel}
        else:
            raise _fail(here, 'must be {"campaign": ID} or {"channel": CHANNEL}')
        return {"touched": touched, "within_days": days}
    target_id = node[kind]
    return {
        kind: None if target_id is None else _record_id(target_id, _join(path, kind)),
        "within_days": days,
    }


def validate_definition(definition: Any) -> dict[str, Any]:
    """A definition checked against the grammar and normalised; InvalidInput names the path."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except (ValueError, RecursionError):
            raise _fail("", "is not valid JSON") from None
    return _validate(definition, "", 1, _Counter())


# ---------------------------------------------------------------- SQL expressions

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as the SQL side does on both databases."""
    return text.translate(str.maketrans(_UPPER, _UPPER.lower()))


class AsciiLower(Func):
    """LOWER() for ASCII letters only: SQLite's LOWER() is ASCII-only, so PostgreSQL matches it."""

    output_field = CharField()
    function = "LOWER"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template=f"TRANSLATE(%(expressions)s, '{_UPPER}', '{_UPPER.lower()}')",
            **extra,
        )


class JsonKeyType(Func):
    """The JSON type of properties[key] as number/string/boolean/null/object/array/missing."""

    output_field = CharField()

    def __init__(self, column: str, key: str) -> None:
        super().__init__(F(column))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = "$." + json.dumps(self.key)
        sql = (
            f"CASE JSON_TYPE({column}, %s) WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number'"
            " WHEN 'text' THEN 'string' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean'"
            f" ELSE COALESCE(JSON_TYPE({column}, %s), 'missing') END"
        )
        return sql, (*params, path, *params, path)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(JSONB_TYPEOF({column} -> %s), 'missing')", (*params, self.key)


NEVER = Q(pk__in=[])
ALWAYS = ~NEVER


def _is_type(key: str, json_type: str) -> Q:
    return Q(Exact(JsonKeyType("properties", key), json_type))


def _property_q(flt: dict[str, Any], alias: str) -> Q:
    """One property filter over TimelineEvent rows, TRUE or FALSE for every row.

    `alias` names KeyTransform(property) on the queryset, so Django picks its JSON lookups
    (number and true/false comparisons that work on both databases).
    """
    key, op, value = flt["property"], flt["op"], flt["value"]
    if op == "neq":
        return ~_property_q({**flt, "op": "eq"}, alias)
    if op == "contains":
        text = AsciiLower(KeyTextTransform(key, "properties"))
        return _is_type(key, "string") & Q(Contains(text, ascii_lower(value)))
    if op == "eq" and isinstance(value, str):
        text = AsciiLower(KeyTextTransform(key, "properties"))
        return _is_type(key, "string") & Q(Exact(text, ascii_lower(value)))
    json_type = "boolean" if isinstance(value, bool) else "number"
    return _is_type(key, json_type) & Q(**{f"{alias}__{'exact' if op == 'eq' else op}": value})


def _with_properties(events: QuerySet, filters: list[dict[str, Any]]) -> QuerySet:
    """Events narrowed by every property filter."""
    for i, flt in enumerate(filters):
        alias = f"_property_{i}"
        events = events.alias(**{alias: KeyTransform(flt["property"], "properties")})
        events = events.filter(_property_q(flt, alias))
    return events


def _since(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


@dataclass
class _Context:
    now: datetime
    contact_ids: Collection[int] | None


def _restricted(qs: QuerySet, ctx: _Context, column: str = "contact_id") -> QuerySet:
    if ctx.contact_ids is not None:
        qs = qs.filter(**{f"{column}__in": ctx.contact_ids})
    return qs


def _exists(qs: QuerySet) -> Q:
    return Q(Exists(qs.filter(contact_id=OuterRef("pk"))))


def _event_q(node: dict[str, Any], ctx: _Context) -> Q:
    events = TimelineEvent.objects.filter(type=node["event"])
    since = _since(ctx.now, node["within_days"])
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    events = _with_properties(events, node["where"])
    if node["min_count"] == 1:
        return _exists(events)
    if connection.vendor == "sqlite":
        # "At least N" as "an N-th matching event exists": a correlated EXISTS … OFFSET N-1
        # LIMIT 1 over one contact's events (the contact index), run by SQLite only for the
        # contacts that pass the segment's other conditions.
        nth = node["min_count"] - 1
        per_contact = events.filter(contact_id=OuterRef("pk")).order_by()
        return Q(Exists(per_contact[nth : nth + 1]))
    # PostgreSQL would plan that subquery over the (type, occurred_at) index once per contact
    # (the JSON filter's selectivity is unknown to it); one grouped, NULL-free subquery is
    # computed once and hashed instead.
    counted = (
        _restricted(events.filter(contact_id__isnull=False), ctx)
        .order_by()
        .values("contact_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=node["min_count"])
        .values("contact_id")
    )
    return Q(pk__in=counted)


def _behaviour_q(node: dict[str, Any], ctx: _Context) -> Q:
    since = _since(ctx.now, node["within_days"])
    if "event" in node:
        return _event_q(node, ctx)
    if "touched" in node:
        target = node["touched"]
        touches = (
            Touchpoint.objects.filter(campaign_id=target["campaign"])
            if "campaign" in target
            else Touchpoint.objects.filter(channel=target["channel"])
        )
        if since is not None:
            touches = touches.filter(occurred_at__gte=since)
        return _exists(touches)
    if "submitted_form" in node:
        submissions = FormSubmission.objects.all()
        if node["submitted_form"] is not None:
            submissions = submissions.filter(form_id=node["submitted_form"])
        if since is not None:
            submissions = submissions.filter(submitted_at__gte=since)
        return _exists(submissions)
    views = TimelineEvent.objects.filter(type__in=CONTENT_EVENTS)
    if node["viewed_content"] is not None:
        asset = {"property": "asset_id", "op": "eq", "value": node["viewed_content"]}
        views = _with_properties(views, [asset])
    if since is not None:
        views = views.filter(occurred_at__gte=since)
    return _exists(views)


def _compare(column: str, op: str, value: Any, kind: str) -> Q:
    """A positive comparison on a column (its NULLs are guarded by the caller)."""
    if kind == "text":
        lowered = AsciiLower(F(column))
        if op == "eq":
            return Q(Exact(lowered, ascii_lower(value)))
        if op == "contains":
            return Q(Contains(lowered, ascii_lower(value)))
        if op == "starts_with":
            return Q(StartsWith(lowered, ascii_lower(value)))
        return Q(In(lowered, sorted({ascii_lower(v) for v in value})))
    if kind == "decimal":
        value = [_decimal(v) for v in value] if isinstance(value, list) else _decimal(value)
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    if op == "eq":
        return Q(**{column: value})
    if op == "in":
        return Q(**{f"{column}__in": value})
    return Q(**{f"{column}__{op}": value})


def _decimal(value: int | float) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - validated finite numbers always convert
        raise InvalidInput("not a number", field="definition") from None


def _holds_on_missing(op: str, value: Any, default: int | None) -> bool:
    """Whether a positive operator holds for a missing value (or the default that replaces it)."""
    if default is None:
        return op == "is_empty"
    return _number_holds(op, default, value)


def _number_holds(op: str, have: int | float, value: Any) -> bool:
    tests: dict[str, Callable[[], bool]] = {
        "eq": lambda: have == value,
        "gt": lambda: have > value,
        "gte": lambda: have >= value,
        "lt": lambda: have < value,
        "lte": lambda: have <= value,
        "between": lambda: value[0] <= have <= value[1],
        "is_empty": lambda: False,
    }
    return tests[op]()


def _value_q(spec: SegmentField, column: str, op: str, value: Any, ctx: _Context) -> Q:
    """A positive operator on a column of the row at hand, FALSE (not NULL) on NULLs."""
    if op == "is_empty":
        empty = Q(**{f"{column}__isnull": True})
        return empty | Q(**{column: ""}) if spec.kind == "text" else empty
    if spec.kind == "date":
        if op == "within_last_days":
            q = Q(**{f"{column}__gte": ctx.now - timedelta(days=value)})
        else:
            moment = datetime.fromisoformat(value)
            q = Q(**{f"{column}__{'lt' if op == 'before' else 'gt'}": moment})
    elif spec.kind == "choice":
        values = value if op == "in" else [value]
        present = [v for v in values if v is not None]
        q = Q(**{f"{column}__in": present}) if present else NEVER
        if spec.nullable and None in values:
            return Q(**{f"{column}__isnull": True}) | (Q(**{f"{column}__isnull": False}) & q)
    else:
        q = _compare(column, op, value, spec.value if spec.kind == "number" else "text")
    return Q(**{f"{column}__isnull": False}) & q if spec.nullable or spec.kind == "text" else q


def _field_q(node: dict[str, Any], ctx: _Context) -> Q:
    spec = FIELDS[node["field"]]
    op, value = node["op"], node["value"]
    if op in NEGATIONS:
        return ~_field_q({**node, "op": NEGATIONS[op]}, ctx)
    if spec.where == "contact":
        return _value_q(spec, spec.column, op, value, ctx)
    if spec.where == "owner":
        values = value if op == "in" else [value]
        names = [v for v in values if v is not None]
        q = (
            Q(Exists(get_user_model().objects.filter(pk=OuterRef("owner_id"), username__in=names)))
            if names
            else NEVER
        )
        return q | Q(owner_id__isnull=True) if None in values else q
    if spec.where == "company":
        inner = Company.objects.filter(pk=OuterRef("company_id")).filter(
            _value_q(spec, spec.column, op, value, ctx)
        )
        q = Q(Exists(inner))
        return q | Q(company_id__isnull=True) if _holds_on_missing(op, value, None) else q
    # A lead score column: contacts without a LeadScore row count as having the default.
    scores = LeadScore.objects.filter(_value_q(spec, spec.column, op, value, ctx))
    q = _exists(scores)
    if _holds_on_missing(op, value, spec.default):
        q |= ~_exists(LeadScore.objects.all())
    return q


def _compile(node: dict[str, Any], ctx: _Context) -> Q:
    if "all" in node:
        return reduce(and_, (_compile(child, ctx) for child in node["all"]))
    if "any" in node:
        return reduce(or_, (_compile(child, ctx) for child in node["any"]))
    if "not" in node:
        return ~_compile(node["not"], ctx)
    if "field" in node:
        return _field_q(node, ctx)
    return _behaviour_q(node, ctx)


def compile_definition(
    definition: Any,
    *,
    now: datetime | None = None,
    contact_ids: Collection[int] | None = None,
) -> Q:
    """The definition as one Q over crm.Contact (validated first).

    With `contact_ids`, the Q also limits the contacts and its counting subqueries to those
    ids, so an incremental refresh of a few contacts never aggregates the whole event table.
    """
    tree = validate_definition(definition)
    ctx = _Context(now=now or timezone.now(), contact_ids=contact_ids)
    q = _compile(tree, ctx)
    if contact_ids is not None:
        q = Q(pk__in=list(contact_ids)) & q
    return q


def matching_contacts(definition: Any, *, now: datetime | None = None) -> QuerySet[Contact]:
    """The contacts a definition selects right now (one query when evaluated)."""
    return Contact.objects.filter(compile_definition(definition, now=now))


# ---------------------------------------------------------------- descriptions


def _value_words(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_words(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, str):
        return f"“{value}”"
    return json.dumps(value)


def _days_words(days: int | None) -> str:
    return "" if days is None else f" in the last {days} day{'s' if days != 1 else ''}"


_Names = dict[str, dict[int, str]]


def _named(names: dict[int, str], value: Any) -> Any:
    """Ids replaced by the names of the records they point to ("#12" when one is gone)."""
    if isinstance(value, list):
        return [_named(names, v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return names.get(value, f"#{value}")
    return value


def _collect_ids(node: dict[str, Any], ids: dict[str, set[int]]) -> None:
    for kind in ("all", "any"):
        for child in node.get(kind, []):
            _collect_ids(child, ids)
    if "not" in node:
        _collect_ids(node["not"], ids)
    values: list[Any] = []
    if node.get("field") in ("persona", "team"):
        values = node["value"] if isinstance(node.get("value"), list) else [node.get("value")]
        ids[node["field"]].update(v for v in values if isinstance(v, int))
    if "campaign" in node.get("touched", {}):
        ids["campaign"].add(node["touched"]["campaign"])
    if isinstance(node.get("submitted_form"), int):
        ids["form"].add(node["submitted_form"])
    if isinstance(node.get("viewed_content"), int):
        ids["content"].add(node["viewed_content"])


def names_for(definitions: Iterable[Any]) -> _Names:
    """The names behind the ids some definitions mention: one query per kind that occurs, so a
    list of segments is described with a fixed number of queries (invalid ones are skipped)."""
    ids: dict[str, set[int]] = {
        k: set() for k in ("persona", "team", "campaign", "form", "content")
    }
    for definition in definitions:
        try:
            _collect_ids(validate_definition(definition), ids)
        except InvalidInput:
            continue
    sources: dict[str, tuple[Any, str]] = {
        "persona": (Persona, "name"),
        "team": (Team, "name"),
        "campaign": (Campaign, "name"),
        "form": (Form, "name"),
        "content": (ContentAsset, "title"),
    }
    names: _Names = {}
    for kind, (model, column) in sources.items():
        wanted = ids[kind]
        rows = model.objects.filter(pk__in=wanted).values_list("pk", column) if wanted else []
        names[kind] = dict(rows)
    return names


def _describe(node: dict[str, Any], names: _Names, *, top: bool = False) -> str:
    if "all" in node or "any" in node:
        kind = "all" if "all" in node else "any"
        parts = [_describe(child, names) for child in node[kind]]
        text = f" {'and' if kind == 'all' else 'or'} ".join(parts)
        return text if top or len(parts) == 1 else f"({text})"
    if "not" in node:
        return f"not {_describe(node['not'], names)}"
    if "field" in node:
        spec, op = FIELDS[node["field"]], node["op"]
        if op in NO_VALUE_OPS:
            return f"{spec.label} {OPERATORS[op]}"
        if op == "between":
            low, high = node["value"]
            return f"{spec.label} is between {_value_words(low)} and {_value_words(high)}"
        if op == "within_last_days":
            return f"{spec.label} is within the last {node['value']} days"
        value = node["value"]
        if node["field"] in names:
            value = _named(names[node["field"]], value)
        return f"{spec.label} {OPERATORS[op]} {_value_words(value)}"
    days = _days_words(node.get("within_days"))
    if "event" in node:
        label = EVENT_TYPES.get(node["event"], node["event"])
        times = "" if node["min_count"] == 1 else f" at least {node['min_count']} times"
        where = "".join(
            f", where {f['property']} {OPERATORS[f['op']]} {_value_words(f['value'])}"
            for f in node["where"]
        )
        return f"did “{label}”{times}{days}{where}"
    if "touched" in node:
        target = node["touched"]
        what = (
            f"campaign {_value_words(_named(names['campaign'], target['campaign']))}"
            if "campaign" in target
            else f"the {target['channel']} channel"
        )
        return f"was touched by {what}{days}"
    if "submitted_form" in node:
        form = node["submitted_form"]
        named_form = _value_words(_named(names["form"], form))
        return f"submitted {'any form' if form is None else f'form {named_form}'}{days}"
    asset = node["viewed_content"]
    named_asset = _value_words(_named(names["content"], asset))
    return f"viewed {'any content' if asset is None else f'content {named_asset}'}{days}"


def describe(definition: Any, *, names: _Names | None = None) -> str:
    """The definition in words, ids shown as the records' names (pass `names` from names_for
    when describing many)."""
    tree = validate_definition(definition)
    return _describe(tree, names if names is not None else names_for([tree]), top=True)
