"""Scoring writes: rules (create, change, delete), scoring settings, and (re)computing scores.

The computation itself is SQL built in tandem.leads.scoring; these functions choose the scope,
hold the transaction, and schedule a full recompute after anything that changes every score.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tandem.crm.normalise import clean_choice, clean_int, clean_text
from tandem.errors import InvalidInput, refuse_taken
from tandem.leads import scoring
from tandem.leads.models import LeadSettings, ScoreAxis, ScoreRule
from tandem.leads.segments import validate_definition
from tandem.leads.services.settings import lead_settings, update_lead_settings

MAX_POINTS = 1000
MAX_CAP = 1_000_000
MAX_FILTERS = 10
MAX_FILTER_VALUE = 200
# Conditions that read the score itself would make fit depend on its own result.
SELF_REFERENCING_FIELDS = {"score", "fit_score", "engagement_score"}
RULE_FIELDS = (
    "axis",
    "name",
    "points",
    "condition",
    "event_type",
    "event_filters",
    "cap",
    "is_active",
    "position",
)
SCORING_SETTINGS = (
    "half_life_days",
    "engagement_window_days",
    "mql_fit_min",
    "mql_engagement_min",
    "mql_probability_min",
    "mql_on_hand_raise",
)
# Settings whose change moves every engagement score.
RESCORING_SETTINGS = {"half_life_days", "engagement_window_days"}


# ---------------------------------------------------------------- validation


def _walk_fields(node: Any) -> Iterable[str]:
    """Every field name a condition tree reads."""
    if isinstance(node, dict):
        if isinstance(node.get("field"), str):
            yield node["field"]
        for key in ("all", "any"):
            for child in node.get(key) or []:
                yield from _walk_fields(child)
        if "not" in node:
            yield from _walk_fields(node["not"])


def clean_condition(value: Any) -> dict[str, Any]:
    """A fit rule's condition: a valid segment condition tree that does not read the score."""
    if not isinstance(value, dict) or not value:
        raise InvalidInput(
            "condition is required for a fit rule: a segment condition such as "
            '{"field": "company.employees", "op": "gte", "value": 200}',
            field="condition",
        )
    try:
        normal = validate_definition(value)
    except InvalidInput as problem:
        raise InvalidInput(f"condition: {problem}", field="condition") from None
    used = set(_walk_fields(normal)) & SELF_REFERENCING_FIELDS
    if used:
        raise InvalidInput(
            f"condition: a fit rule may not read {', '.join(sorted(used))} "
            "(scores are what the rules compute)",
            field="condition",
        )
    return normal


def clean_event_type(value: Any) -> str:
    """An engagement rule's timeline event type."""
    text = clean_text(value, field="event_type", max_length=80, required=True)
    if not scoring.EVENT_TYPE.fullmatch(text):
        raise InvalidInput(
            f"event_type {text[:80]!r} is not a timeline event type: use snake_case "
            "(page_view, form_submit) or custom:<name>",
            field="event_type",
        )
    return text


def clean_event_filters(value: Any) -> list[dict[str, Any]]:
    """Property filters of an engagement rule: [{"property", "op", "value"}], all must hold."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise InvalidInput("event_filters must be a list", field="event_filters")
    if len(value) > MAX_FILTERS:
        raise InvalidInput(
            f"event_filters may hold at most {MAX_FILTERS} filters", field="event_filters"
        )
    out = []
    for i, item in enumerate(value):
        where = f"event_filters[{i}]"
        if not isinstance(item, dict) or set(item) - {"property", "op", "value"}:
            raise InvalidInput(
                f'{where} must be {{"property": ..., "op": ..., "value": ...}}',
                field="event_filters",
            )
        prop = item.get("property")
        if not isinstance(prop, str) or not scoring.PROPERTY_KEY.fullmatch(prop):
            raise InvalidInput(
                f"{where}.property {str(prop)[:80]!r} must be a property name of letters, "
                "digits, _ and - (up to three, separated by dots)",
                field="event_filters",
            )
        op = item.get("op")
        if op not in scoring.EVENT_FILTER_OPS:
            raise InvalidInput(
                f"{where}.op {str(op)[:40]!r} is not one of: {', '.join(scoring.EVENT_FILTER_OPS)}",
                field="event_filters",
            )
        raw = item.get("value")
        if op in scoring.NUMBER_OPS:
            number = _number(raw)
            if number is None:
                raise InvalidInput(
                    f"{where}.value must be a number for {op}", field="event_filters"
                )
            out.append({"property": prop, "op": op, "value": number})
            continue
        if isinstance(raw, bool | int | float):
            out.append({"property": prop, "op": op, "value": raw})
            continue
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidInput(f"{where}.value is required", field="event_filters")
        text = clean_text(raw, field="event_filters", max_length=MAX_FILTER_VALUE)
        out.append({"property": prop, "op": op, "value": text})
    return out


def _number(raw: Any) -> int | float | None:
    """A finite number from JSON or form text; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number


def _clean_rule(values: dict[str, Any], *, current: ScoreRule | None) -> dict[str, Any]:
    """Every field of a rule, validated together (the axis decides which fields apply)."""
    axis = clean_choice(values.get("axis"), field="axis", choices=list(ScoreAxis.values))
    name = clean_text(values.get("name"), field="name", max_length=160, required=True)
    points = clean_int(
        values.get("points"), field="points", minimum=-MAX_POINTS, maximum=MAX_POINTS
    )
    if points is None:
        raise InvalidInput("points is required", field="points")
    if points == 0:
        raise InvalidInput("points must not be 0", field="points")
    is_active = values.get("is_active", True)
    if not isinstance(is_active, bool):
        raise InvalidInput("is_active must be true or false", field="is_active")
    position = clean_int(values.get("position"), field="position", maximum=100_000)
    out: dict[str, Any] = {
        "axis": axis,
        "name": name,
        "points": points,
        "is_active": is_active,
        "position": position,
    }
    if axis == ScoreAxis.FIT:
        for key in ("event_type", "event_filters", "cap"):
            if values.get(key) not in (None, "", []):
                raise InvalidInput(f"{key} applies to engagement rules only", field=key)
        out.update(
            condition=clean_condition(values.get("condition")),
            event_type="",
            event_filters=[],
            cap=None,
        )
    else:
        if values.get("condition") not in (None, {}):
            raise InvalidInput("condition applies to fit rules only", field="condition")
        out.update(
            condition={},
            event_type=clean_event_type(values.get("event_type")),
            event_filters=clean_event_filters(values.get("event_filters")),
            cap=clean_int(values.get("cap"), field="cap", minimum=1, maximum=MAX_CAP),
        )
    refuse_taken(
        ScoreRule.objects.filter(axis=axis, name=name),
        message=lambda r: f"a {r.axis} rule named {r.name!r} already exists",
        exclude_pk=current.pk if current else None,
    )
    return out


def _next_position(axis: str) -> int:
    last = ScoreRule.objects.filter(axis=axis).aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


def _recompute_soon() -> None:
    """After commit: rescore everyone in the background (rules or decay settings changed)."""
    transaction.on_commit(_enqueue_recompute, robust=True)


def _enqueue_recompute() -> None:
    # Imported here: tasks imports this module.
    from tandem.leads import tasks

    tasks.recompute_scores()


# ---------------------------------------------------------------- rules


@transaction.atomic
def create_rule(
    *,
    axis: str,
    name: str,
    points: int,
    condition: dict[str, Any] | None = None,
    event_type: str = "",
    event_filters: list[dict[str, Any]] | None = None,
    cap: int | None = None,
    is_active: bool = True,
    position: int | None = None,
) -> ScoreRule:
    """Add a scoring rule; every score is recomputed after commit."""
    values = _clean_rule(
        {
            "axis": axis,
            "name": name,
            "points": points,
            "condition": condition,
            "event_type": event_type,
            "event_filters": event_filters,
            "cap": cap,
            "is_active": is_active,
            "position": position,
        },
        current=None,
    )
    if values["position"] is None:
        values["position"] = _next_position(values["axis"])
    rule = ScoreRule.objects.create(**values)
    _recompute_soon()
    return rule


@transaction.atomic
def update_rule(*, rule: ScoreRule, changes: dict[str, Any]) -> ScoreRule:
    """Change a rule's fields (unknown names refused); every score is recomputed after commit."""
    for key in changes:
        if key not in RULE_FIELDS:
            raise InvalidInput(f"{key} is not a field of a scoring rule", field=key)
    current = {key: getattr(rule, key) for key in RULE_FIELDS}
    merged = {**current, **changes}
    if "axis" in changes and changes["axis"] != rule.axis:
        # Moving to the other axis drops the fields that only the old axis uses.
        other = (
            ("condition",) if rule.axis == ScoreAxis.FIT else ("event_type", "event_filters", "cap")
        )
        for key in other:
            if key not in changes:
                merged[key] = None
    values = _clean_rule(merged, current=rule)
    if values["position"] is None:
        values["position"] = rule.position
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save()
    _recompute_soon()
    return rule


@transaction.atomic
def delete_rule(*, rule: ScoreRule) -> None:
    """Delete a rule; its points leave every score at the recompute after commit."""
    rule.delete()
    _recompute_soon()


@transaction.atomic
def update_scoring_settings(*, changes: dict[str, Any]) -> LeadSettings:
    """Change decay and MQL settings; a new half-life or window rescores everyone after commit."""
    for key in changes:
        if key not in SCORING_SETTINGS:
            raise InvalidInput(f"{key} is not a scoring setting", field=key)
    before = lead_settings()
    moved = {k for k in RESCORING_SETTINGS & set(changes) if getattr(before, k) != changes[k]}
    row = update_lead_settings(changes=changes)
    if moved:
        _recompute_soon()
    return row


# ---------------------------------------------------------------- computing scores


@transaction.atomic
def rescore_contacts(
    *, contact_ids: Iterable[int], cause: str, now: datetime | None = None
) -> list[int]:
    """Recompute these contacts' scores; the ids whose fit or engagement changed."""
    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        return []
    now = now or timezone.now()
    rules = scoring.ActiveRules.load()
    settings = lead_settings()
    changed: list[int] = []
    for start in range(0, len(ids), scoring.ID_CHUNK):
        changed += scoring.apply_scores(
            rules=rules,
            settings=settings,
            now=now,
            cause=cause,
            contact_ids=ids[start : start + scoring.ID_CHUNK],
        )
    return changed


@transaction.atomic
def recompute_all_scores(*, now: datetime | None = None, cause: str = "recompute") -> list[int]:
    """Recompute every contact's scores set-based; the ids whose fit or engagement changed."""
    return scoring.apply_scores(
        rules=scoring.ActiveRules.load(),
        settings=lead_settings(),
        now=now or timezone.now(),
        cause=cause,
    )
