"""How rule scores are computed in SQL: decay, each rule's points per contact, and the changes.

Intuition: a contact's **fit** is the sum of the points of the active fit rules whose condition
(a segment condition tree) holds. Its **engagement** is a sum over the active engagement rules:
for each rule, every matching timeline event inside the engagement window is worth
`points * 0.5 ** (age_days / half_life_days)`; a rule's decayed points are capped at its `cap`
(for a negative rule: at `-cap`) and then rounded to a whole number, halves up. Rounding each
rule on its own makes an explanation's per-rule lines add up exactly to the stored score.

Everything here builds ORM querysets (compiled by Django, parameters bound by the driver) and
combines their SQL into a handful of set-based statements; no contact is scored in a Python loop.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from tandem.crm.models import Contact, TimelineEvent
from tandem.leads.models import LeadScore, LeadSettings, ScoreAxis, ScoreChange, ScoreRule
from tandem.leads.segments import compile_definition

EVENT_FILTER_OPS = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
}
NUMBER_LOOKUPS: dict[str, Any] = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
NUMBER_OPS = set(NUMBER_LOOKUPS)
# A property path: up to three dot-separated keys of letters, digits, _ and - ("utm.source").
PROPERTY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,2}")
# Built-in timeline types are snake_case; tracked custom events are "custom:<name>".
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,59}|custom:[A-Za-z0-9 _.:-]{1,64}")
# 0.5 ** 1000 is about 1e-301: still a normal double (PostgreSQL raises on underflow), and any
# event that old is worth nothing after rounding.
MAX_HALF_LIVES = 1000
# Ids per statement in rescore_contacts: each engagement rule repeats them (SQLite's 32,766
# bound parameters).
ID_CHUNK = 500
STAGE_TABLE = "tandem_score_new"
# Any constant: pg_advisory_xact_lock key that serialises score writers on PostgreSQL.
SCORING_LOCK = 7_316_404_221
FULL_RUN_WORK_MEM = "256MB"


# ---------------------------------------------------------------- expressions


class DecayFactor(Func):
    """0.5 ** (age in days / half-life): an event's weight `now`, per database."""

    output_field = FloatField()

    def __init__(self, occurred_at: Any, *, now: datetime, half_life_days: int) -> None:
        super().__init__(occurred_at)
        self.now = now.astimezone(UTC)
        self.half_life = float(half_life_days)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        # Django stores SQLite datetimes as naive UTC text, which julianday() reads.
        now = connection.ops.adapt_datetimefield_value(self.now)
        return (
            f"POWER(0.5, MIN((julianday(%s) - julianday({sql})) / %s, {MAX_HALF_LIVES}))",
            [now, *params, self.half_life],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            "POWER(0.5::double precision, LEAST("
            f"EXTRACT(EPOCH FROM (%s::timestamptz - {sql}))::double precision / 86400.0 / %s,"
            f" {MAX_HALF_LIVES}))",
            [self.now, *params, self.half_life],
        )

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotImplementedError(f"score decay is not written for {connection.vendor}")


class Unindexed(Func):
    """A column that SQLite must not use an index for (its unary-plus idiom); as is elsewhere."""

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"+{sql}", params

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


class IntegerKey(Func):
    """An integer column SQLite must neither order by through an index nor lose the type of.

    Grouping events by it makes SQLite scan the table and sort; its integer type lets the
    outer join on it get an automatic index (a bare "+column" would not).
    """

    output_field = BigIntegerField()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS INTEGER)", params

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


class _JsonPath(Func):
    """A property of a timeline event (by a validated key path), as text or as a number."""

    def __init__(self, column: str, path: Sequence[str], *, number: bool) -> None:
        super().__init__(F(column))
        self.path = list(path)
        self.number = number
        self.output_field = FloatField() if number else TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        path = "$" + "".join(f'."{key}"' for key in self.path)
        if self.number:
            return (
                f"CASE WHEN json_type({sql}, %s) IN ('integer', 'real') "
                f"THEN json_extract({sql}, %s) END",
                [*params, path, *params, path],
            )
        return f"CAST(json_extract({sql}, %s) AS TEXT)", [*params, path]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        if self.number:
            # A text value compared with a number is no match, never a cast error.
            return (
                f"CASE WHEN jsonb_typeof({sql} #> %s) = 'number' "
                f"THEN ({sql} #>> %s)::double precision END",
                [*params, self.path, *params, self.path],
            )
        return f"({sql} #>> %s)", [*params, self.path]

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotImplementedError(f"event filters are not written for {connection.vendor}")


def event_filter_q(filters: Iterable[dict[str, Any]]) -> Q:
    """A rule's validated property filters as one Q over timeline events (all must hold).

    eq/neq/contains compare the property as text (contains ignores case); neq also matches an
    event without the property; gt/gte/lt/lte match numeric properties only.
    """
    q = Q()
    for flt in filters:
        op, value = flt["op"], flt["value"]
        path = str(flt["property"]).split(".")
        if op in NUMBER_OPS:
            number = _JsonPath("properties", path, number=True)
            q &= Q(NUMBER_LOOKUPS[op](number, float(value)))
            continue
        text = _JsonPath("properties", path, number=False)
        if op == "eq":
            q &= Q(Exact(text, _as_text(value)))
        elif op == "neq":
            q &= Q(IsNull(text, True)) | ~Q(Exact(text, _as_text(value)))
        else:
            q &= Q(IContains(text, _as_text(value)))
    return q


def _as_text(value: Any) -> str:
    """How a filter value compares with a property as text (JSON spells booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- per-rule querysets


def window_start(settings: LeadSettings, now: datetime) -> datetime:
    """The oldest moment an event still counts for engagement."""
    return now - timedelta(days=settings.engagement_window_days)


def rule_events(
    rule: ScoreRule,
    *,
    settings: LeadSettings,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> QuerySet[TimelineEvent]:
    """The timeline events an engagement rule counts, each annotated with its decayed points."""
    qs = TimelineEvent.objects.filter(
        occurred_at__gt=window_start(settings, now),
        occurred_at__lte=now,
    )
    if contact_ids is None:
        qs = qs.filter(type=rule.event_type, contact_id__isnull=False)
    else:
        # A few contacts: their (contact, occurred_at) index beats the (type, occurred_at) one,
        # which SQLite would pick without statistics.
        qs = qs.alias(_type=Unindexed("type")).filter(
            _type=rule.event_type, contact_id__in=list(contact_ids)
        )
    qs = qs.filter(event_filter_q(rule.event_filters or []))
    decay = DecayFactor("occurred_at", now=now, half_life_days=settings.half_life_days)
    return qs.annotate(
        decayed=Cast(Value(rule.points), FloatField()) * decay,
    ).order_by()


def capped(raw: Any, rule: ScoreRule) -> Any:
    """A rule's decayed sum limited by its cap (a negative rule's by -cap)."""
    if rule.cap is None:
        return raw
    if rule.points >= 0:
        return Least(raw, Value(float(rule.cap)))
    return Greatest(raw, Value(-float(rule.cap)))


def rounded(value: Any) -> Any:
    """Round to a whole number, halves up, the same way on every database."""
    return Cast(Floor(value + Value(0.5)), IntegerField())


def engagement_totals(
    rules: Sequence[ScoreRule],
    *,
    settings: LeadSettings,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> QuerySet:
    """Per contact (`contact_ref`), in one pass over the window's events: each rule's decayed sum
    `raw_<i>`, its whole points `pts_<i>` (capped, rounded) and their sum `eng`."""
    qs = TimelineEvent.objects.filter(
        occurred_at__gt=window_start(settings, now), occurred_at__lte=now
    ).alias(_type=Unindexed("type"))
    types = sorted({rule.event_type for rule in rules})
    if contact_ids is None:
        # Unindexed type and contact (here and in the GROUP BY): SQLite then reads the table once
        # in order and sorts, rather than looking each event up in the table from an index
        # (three times slower). PostgreSQL plans by its statistics either way.
        qs = qs.alias(_contact=Unindexed("contact_id")).filter(
            _type__in=types, _contact__isnull=False
        )
    else:
        # A few contacts: their (contact, occurred_at) index is the one to use.
        qs = qs.filter(_type__in=types, contact_id__in=list(contact_ids))
    decay = DecayFactor("occurred_at", now=now, half_life_days=settings.half_life_days)
    sums = {
        f"raw_{i}": Sum(
            Value(float(rule.points)) * decay,
            filter=Q(type=rule.event_type) & event_filter_q(rule.event_filters or []),
        )
        for i, rule in enumerate(rules)
    }
    # Coalesce before the cap: PostgreSQL's LEAST(NULL, cap) is the cap, SQLite's MIN is NULL.
    points = {
        f"pts_{i}": rounded(capped(Coalesce(F(f"raw_{i}"), Value(0.0)), rule))
        for i, rule in enumerate(rules)
    }
    total: Any = Value(0, output_field=IntegerField())
    for name in points:
        total = total + F(name)
    return (
        qs.order_by()
        .values(contact_ref=IntegerKey("contact_id"))
        .annotate(**sums)
        .annotate(**points)
        .annotate(eng=total)
        .values("contact_ref", *sums, *points, "eng")
    )


def fit_condition(rule: ScoreRule, *, now: datetime, contact_ids: Sequence[int] | None = None) -> Q:
    """A fit rule's condition as a Q over Contact (its subqueries narrowed to contact_ids)."""
    return compile_definition(rule.condition, now=now, contact_ids=contact_ids)


def fit_expression(
    rules: Sequence[ScoreRule], *, now: datetime, contact_ids: Sequence[int] | None = None
) -> Any:
    """The fit points of a contact: one CASE per fit rule, added up in the same row."""
    if not rules:
        return Value(0, output_field=IntegerField())
    total: Any = None
    for rule in rules:
        case = Case(
            When(fit_condition(rule, now=now, contact_ids=contact_ids), then=Value(rule.points)),
            default=Value(0),
            output_field=IntegerField(),
        )
        total = case if total is None else total + case
    return total


# ---------------------------------------------------------------- the set-based computation


@dataclass(frozen=True)
class ActiveRules:
    """The rules a computation uses, split by axis."""

    fit: list[ScoreRule]
    engagement: list[ScoreRule]

    @classmethod
    def load(cls) -> ActiveRules:
        rules = list(ScoreRule.objects.filter(is_active=True).order_by("axis", "position", "id"))
        return cls(
            fit=[r for r in rules if r.axis == ScoreAxis.FIT],
            engagement=[r for r in rules if r.axis == ScoreAxis.ENGAGEMENT],
        )


def _sql(qs: QuerySet) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def new_scores_sql(
    *,
    rules: ActiveRules,
    settings: LeadSettings,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> tuple[str, list[Any]]:
    """SELECT (contact_id, fit, engagement, total, axes_changed, mirror_changed) of moved scores.

    One statement: contacts (with every fit rule as a CASE in the same scan) left-joined to the
    engagement aggregate (one pass over the window's events) and to the stored scores; only rows
    whose fit, engagement, or mirrored Contact.score differ come out.
    """
    contacts = Contact.objects.order_by()
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=list(contact_ids))
    base_sql, params = _sql(
        contacts.annotate(
            new_fit=fit_expression(rules.fit, now=now, contact_ids=contact_ids)
        ).values("id", "score", "new_fit")
    )
    score_table = connection.ops.quote_name(LeadScore._meta.db_table)
    engagement_join, engagement = "", "0"
    eng_params: list[Any] = []
    if rules.engagement:
        eng_sql, eng_params = _sql(
            engagement_totals(rules.engagement, settings=settings, now=now, contact_ids=contact_ids)
        )
        engagement_join = f"LEFT JOIN ({eng_sql}) e ON e.contact_ref = b.id"
        engagement = "COALESCE(e.eng, 0)"
    sql = f"""
        SELECT n.contact_id, n.fit, n.engagement, n.fit + n.engagement,
               CASE WHEN n.fit <> n.old_fit OR n.engagement <> n.old_engagement
                    THEN 1 ELSE 0 END,
               CASE WHEN n.fit + n.engagement <> n.old_score THEN 1 ELSE 0 END
        FROM (
            SELECT b.id AS contact_id, b.new_fit AS fit, {engagement} AS engagement,
                   b.score AS old_score, COALESCE(ls.fit, 0) AS old_fit,
                   COALESCE(ls.engagement, 0) AS old_engagement
            FROM ({base_sql}) b
            {engagement_join}
            LEFT JOIN {score_table} ls ON ls.contact_id = b.id
        ) n
        WHERE n.fit <> n.old_fit OR n.engagement <> n.old_engagement
           OR n.fit + n.engagement <> n.old_score
    """  # noqa: S608
    return sql, [*params, *eng_params]


# ---------------------------------------------------------------- compiled SQL, reused

# Building the statement through the ORM costs a few milliseconds per rule, most of the time of
# a one-contact rescore. The scoped statement is compiled once with stand-in values for `now`
# and the ids, then reused with the real ones swapped into its parameters. Stand-ins are values
# no rule can hold (a moment in 1999, ids below -10**15). A short lifetime bounds any staleness.
CACHE_SECONDS = 60.0
CACHE_SIZE = 64
_STAND_IN_NOW = datetime(1999, 12, 31, 23, 59, 58, 987654, tzinfo=UTC)
_STAND_IN_ID = -(10**15)
_compiled: dict[tuple[Any, ...], tuple[float, str, list[Any]]] = {}


def _time_relative(node: Any) -> bool:
    """Whether a condition reads the clock (its SQL then holds `now`-derived moments)."""
    if isinstance(node, dict):
        if node.get("within_days") is not None or node.get("op") == "within_last_days":
            return True
        return any(_time_relative(child) for child in node.values())
    if isinstance(node, list):
        return any(_time_relative(child) for child in node)
    return False


def _rules_key(rules: ActiveRules) -> tuple[Any, ...]:
    return tuple(
        (
            r.pk,
            r.axis,
            r.points,
            json.dumps(r.condition, sort_keys=True),
            r.event_type,
            json.dumps(r.event_filters, sort_keys=True),
            r.cap,
        )
        for r in (*rules.fit, *rules.engagement)
    )


def scoped_scores_sql(
    *,
    rules: ActiveRules,
    settings: LeadSettings,
    now: datetime,
    contact_ids: Sequence[int],
) -> tuple[str, list[Any]]:
    """new_scores_sql for a few contacts, reusing the statement compiled for the same shape."""
    if any(_time_relative(rule.condition) for rule in rules.fit):
        return new_scores_sql(rules=rules, settings=settings, now=now, contact_ids=contact_ids)
    key = (
        connection.vendor,
        connection.alias,
        _rules_key(rules),
        settings.half_life_days,
        settings.engagement_window_days,
        len(contact_ids),
    )
    stand_in_ids = [_STAND_IN_ID - k for k in range(len(contact_ids))]
    hit = _compiled.get(key)
    if hit is None or hit[0] < time.monotonic():
        sql, params = new_scores_sql(
            rules=rules, settings=settings, now=_STAND_IN_NOW, contact_ids=stand_in_ids
        )
        if len(_compiled) >= CACHE_SIZE:
            _compiled.clear()
        hit = _compiled[key] = (time.monotonic() + CACHE_SECONDS, sql, params)
    _, sql, params = hit
    adapt = connection.ops.adapt_datetimefield_value
    since, stand_in_since = window_start(settings, now), window_start(settings, _STAND_IN_NOW)
    swap: dict[Any, Any] = {
        _STAND_IN_NOW: now,
        stand_in_since: since,
        adapt(_STAND_IN_NOW): adapt(now),
        adapt(stand_in_since): adapt(since),
        **dict(zip(stand_in_ids, contact_ids, strict=True)),
    }
    return sql, [
        swap.get(p, p) if isinstance(p, str | int | datetime) and not isinstance(p, bool) else p
        for p in params
    ]


def _prepare_stage(cursor: Any, *, full: bool) -> None:
    """An empty per-connection temporary table for this run's changed scores.

    Each run empties it before returning (and a failed run's rows roll back with it); the
    DELETE first is a cheap guard. On PostgreSQL one advisory lock serialises score writers,
    so a nightly recompute and per-event rescoring never deadlock on each other's rows.
    """
    key_type = "bigint" if connection.vendor == "postgresql" else "integer"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} (contact_id {key_type} PRIMARY KEY,"
        " fit integer NOT NULL, engagement integer NOT NULL, total integer NOT NULL,"
        " axes_changed integer NOT NULL, mirror_changed integer NOT NULL)"
    )
    cursor.execute(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCORING_LOCK])
        if full:
            # Lets the per-contact aggregate hash in memory rather than sort on disk.
            cursor.execute(f"SET LOCAL work_mem = '{FULL_RUN_WORK_MEM}'")


def _empty_stage(cursor: Any, *, full: bool) -> None:
    if full and connection.vendor == "postgresql":
        # Temporary tables are never vacuumed: TRUNCATE leaves no dead rows behind.
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
    else:
        cursor.execute(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608


def apply_scores(
    *,
    rules: ActiveRules,
    settings: LeadSettings,
    now: datetime,
    cause: str,
    contact_ids: Sequence[int] | None = None,
) -> list[int]:
    """Compute and store the scores in scope; the ids whose fit or engagement changed.

    Call inside a transaction. Statements: stage the changed rows; upsert LeadScore (leaving
    probability alone); append ScoreChange rows; mirror totals to Contact.score where they
    differ. Rows that did not change are not written.
    """
    qn = connection.ops.quote_name
    score_table = qn(LeadScore._meta.db_table)
    history_table = qn(ScoreChange._meta.db_table)
    contact_table = qn(Contact._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    if contact_ids is None:
        select_sql, params = new_scores_sql(rules=rules, settings=settings, now=now)
    else:
        select_sql, params = scoped_scores_sql(
            rules=rules, settings=settings, now=now, contact_ids=contact_ids
        )
    with connection.cursor() as cursor:
        _prepare_stage(cursor, full=contact_ids is None)
        cursor.execute(
            f"INSERT INTO {STAGE_TABLE} "
            "(contact_id, fit, engagement, total, axes_changed, mirror_changed) " + select_sql,
            params,
        )
        if contact_ids is None and connection.vendor == "postgresql":
            # Temporary tables are never analysed automatically; the joins below need numbers.
            cursor.execute(f"ANALYZE {STAGE_TABLE}")
        cursor.execute(
            f"INSERT INTO {score_table} (contact_id, fit, engagement, total, computed_at) "  # noqa: S608
            f"SELECT t.contact_id, t.fit, t.engagement, t.total, %s FROM {STAGE_TABLE} t "
            "WHERE t.axes_changed = 1 "
            "ON CONFLICT (contact_id) DO UPDATE SET fit = excluded.fit, "
            "engagement = excluded.engagement, total = excluded.total, "
            "computed_at = excluded.computed_at",
            [stamp],
        )
        cursor.execute(
            f"INSERT INTO {history_table} (contact_id, at, fit, engagement, total, cause) "  # noqa: S608
            f"SELECT t.contact_id, %s, t.fit, t.engagement, t.total, %s FROM {STAGE_TABLE} t "
            "WHERE t.axes_changed = 1",
            [stamp, cause[:40]],
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {contact_table} SET score = t.total FROM {STAGE_TABLE} t "  # noqa: S608
                f"WHERE {contact_table}.id = t.contact_id AND t.mirror_changed = 1"
            )
        else:
            # SQLite's UPDATE ... FROM would scan every contact; IN drives from the few staged.
            cursor.execute(
                f"UPDATE {contact_table} SET score = (SELECT t.total FROM {STAGE_TABLE} t "  # noqa: S608
                f"WHERE t.contact_id = {contact_table}.id) WHERE id IN "
                f"(SELECT t.contact_id FROM {STAGE_TABLE} t WHERE t.mirror_changed = 1)"
            )
        cursor.execute(
            f"SELECT contact_id FROM {STAGE_TABLE} WHERE axes_changed = 1 ORDER BY contact_id"  # noqa: S608
        )
        changed = [row[0] for row in cursor.fetchall()]
        _empty_stage(cursor, full=contact_ids is None)
    return changed
