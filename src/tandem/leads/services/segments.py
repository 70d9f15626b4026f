"""Segment writes: create/update/delete, static list members, and set-based membership refresh.

Membership is history: a SegmentMembership row is one stay (entered_at .. left_at). A refresh
compares the definition's current matches with the open stays in two statements — one UPDATE
closes the stays of contacts that no longer match, one INSERT … SELECT opens stays for new
matches — so its cost is the cost of the segment's query, never a loop over contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from tandem.accounts.models import User
from tandem.crm.models import Contact
from tandem.errors import Conflict, InvalidInput, refuse_taken
from tandem.leads.models import RoutingRule, Segment, SegmentKind, SegmentMembership
from tandem.leads.segments import compile_definition, validate_definition

MAX_NAME = 160
MAX_DESCRIPTION = 5000
MAX_MEMBER_IDS = 1000
# Ids per statement in incremental refreshes and list edits (well under SQLite's variable cap).
CHUNK = 500


def _clean_name(name: Any) -> str:
    text = "" if name is None else str(name).strip()
    if not text:
        raise InvalidInput("name is required", field="name")
    if len(text) > MAX_NAME or "\x00" in text:
        raise InvalidInput(f"name must be 1-{MAX_NAME} characters without NUL", field="name")
    return text


def _clean_description(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_DESCRIPTION or "\x00" in text:
        raise InvalidInput(
            f"description must be at most {MAX_DESCRIPTION} characters without NUL",
            field="description",
        )
    return text


def _refuse_taken_name(name: str, exclude_pk: int | None = None) -> None:
    refuse_taken(
        Segment.objects.filter(name__iexact=name),
        message=lambda s: f"a segment named {s.name!r} exists",
        exclude_pk=exclude_pk,
    )


def _clean_definition(kind: str, definition: Any) -> dict[str, Any]:
    if kind == SegmentKind.STATIC:
        if definition not in (None, {}):
            raise InvalidInput("a static list has no definition", field="definition")
        return {}
    if definition is None or definition == {}:
        raise InvalidInput("a dynamic segment needs a definition", field="definition")
    return validate_definition(definition)


def create_segment(
    *,
    name: str,
    kind: str,
    definition: Any = None,
    description: str = "",
    by: User | None,
    now: datetime | None = None,
) -> Segment:
    """Create a dynamic segment (filled at once) or an empty static list."""
    if kind not in SegmentKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(SegmentKind.values)}", field="kind")
    clean_name = _clean_name(name)
    clean = _clean_definition(kind, definition)
    with transaction.atomic():
        _refuse_taken_name(clean_name)
        segment = Segment.objects.create(
            name=clean_name,
            kind=kind,
            definition=clean,
            description=_clean_description(description),
            created_by=by,
        )
        if kind == SegmentKind.DYNAMIC:
            _refresh(segment, now or timezone.now())
    return segment


def update_segment(
    *, segment: Segment, changes: dict[str, Any], by: User | None, now: datetime | None = None
) -> Segment:
    """Change name, description or definition; a changed definition refreshes members at once."""
    unknown = set(changes) - {"name", "description", "definition", "kind"}
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} cannot be changed", field=sorted(unknown)[0])
    if "kind" in changes and changes["kind"] != segment.kind:
        raise InvalidInput(
            "a segment's kind cannot change; create a new segment instead", field="kind"
        )
    with transaction.atomic():
        fields = ["updated_at"]
        if "name" in changes:
            segment.name = _clean_name(changes["name"])
            _refuse_taken_name(segment.name, exclude_pk=segment.pk)
            fields.append("name")
        if "description" in changes:
            segment.description = _clean_description(changes["description"])
            fields.append("description")
        redo = False
        if "definition" in changes:
            clean = _clean_definition(segment.kind, changes["definition"])
            redo = clean != segment.definition
            segment.definition = clean
            fields.append("definition")
        segment.save(update_fields=fields)
        if redo:
            _refresh(segment, now or timezone.now())
    return segment


def delete_segment(*, segment: Segment) -> None:
    """Delete a segment and its membership history; refused while a routing rule uses it."""
    with transaction.atomic():
        rule = RoutingRule.objects.filter(segment=segment).first()
        if rule is not None:
            raise Conflict(
                f"routing rule {rule.name!r} routes by this segment; change that rule first",
                existing_id=rule.pk,
            )
        segment.delete()


def _clean_ids(contact_ids: Iterable[Any]) -> list[int]:
    ids = list(contact_ids)
    if len(ids) > MAX_MEMBER_IDS:
        raise InvalidInput(f"at most {MAX_MEMBER_IDS} contact ids at once", field="contact_ids")
    out = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise InvalidInput(f"{value!r} is not a contact id", field="contact_ids")
        out.append(value)
    return sorted(set(out))


def _require_static(segment: Segment) -> None:
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(
            "members of a dynamic segment follow its definition; only static lists take edits",
            field="contact_ids",
        )


def add_members(
    *, segment: Segment, contact_ids: Sequence[int], by: User | None, now: datetime | None = None
) -> int:
    """Add contacts to a static list; returns how many joined (current members are skipped)."""
    _require_static(segment)
    ids = _clean_ids(contact_ids)
    found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10]))
        raise InvalidInput(f"no contact with id {shown}", field="contact_ids")
    at = now or timezone.now()
    with transaction.atomic():
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        current = set(
            SegmentMembership.objects.filter(
                segment=segment, left_at__isnull=True, contact_id__in=ids
            ).values_list("contact_id", flat=True)
        )
        rows = [
            SegmentMembership(segment=segment, contact_id=i, entered_at=at)
            for i in ids
            if i not in current
        ]
        SegmentMembership.objects.bulk_create(rows, batch_size=CHUNK)
        _recount(segment, at)
    return len(rows)


def remove_members(
    *, segment: Segment, contact_ids: Sequence[int], by: User | None, now: datetime | None = None
) -> int:
    """Remove contacts from a static list (their stay is closed, not erased); returns how many."""
    _require_static(segment)
    ids = _clean_ids(contact_ids)
    at = now or timezone.now()
    with transaction.atomic():
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        left = SegmentMembership.objects.filter(
            segment=segment, left_at__isnull=True, contact_id__in=ids
        ).update(left_at=at)
        _recount(segment, at)
    return left


# The per-connection scratch table of a full refresh (a fixed name, never user input).
SEGMENT_IDS = "tandem_segment_ids"


def _recount(segment: Segment, at: datetime) -> None:
    count = SegmentMembership.objects.filter(segment=segment, left_at__isnull=True).count()
    Segment.objects.filter(pk=segment.pk).update(member_count=count, refreshed_at=at)
    segment.member_count, segment.refreshed_at = count, at


def _insert_select(segment: Segment, matching: Any, at: datetime) -> int:
    """INSERT … SELECT the matching contacts that have no open stay; returns rows inserted.

    Django has no INSERT … SELECT, so the ORM compiles the SELECT (all values parameters)
    and we put the INSERT in front of it. ON CONFLICT DO NOTHING keeps a concurrent refresh
    of the same segment from failing on the one-open-stay constraint.
    """
    open_stays = SegmentMembership.objects.filter(
        segment_id=segment.pk, left_at__isnull=True, contact_id=OuterRef("pk")
    )
    select = (
        matching.filter(~Exists(open_stays))
        .order_by()
        .annotate(member_id=F("pk"))
        .values_list("member_id", flat=True)
    )
    try:
        sql, params = select.query.sql_with_params()
    except EmptyResultSet:
        return 0
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    entered = SegmentMembership._meta.get_field("entered_at")
    at_value = entered.get_db_prep_value(at, connection)
    # The ORM's compiled SELECT and a quoted table name; every value is a parameter.
    statement = (
        f"INSERT INTO {table} (segment_id, contact_id, entered_at, left_at) "  # noqa: S608
        f"SELECT %s, m.member_id, %s, NULL FROM ({sql}) m WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, (segment.pk, at_value, *params))
        return max(cursor.rowcount, 0)


def _refresh(
    segment: Segment, at: datetime, contact_ids: Sequence[int] | None = None
) -> tuple[int, int]:
    """Bring open stays in line with the definition (for all contacts, or only these)."""
    q = compile_definition(segment.definition, now=at, contact_ids=contact_ids)
    matching = Contact.objects.filter(q)
    if contact_ids is None:
        entered, left = _refresh_all(segment, matching, at)
        _recount(segment, at)
        return entered, left
    stays = SegmentMembership.objects.filter(
        segment_id=segment.pk, left_at__isnull=True, contact_id__in=contact_ids
    )
    # NOT EXISTS (an anti-join) rather than NOT IN: PostgreSQL cannot hash a huge NOT IN list.
    still = Contact.objects.filter(pk=OuterRef("contact_id")).filter(q)
    left = stays.filter(~Exists(still)).update(left_at=at)
    entered = _insert_select(segment, matching, at)
    if entered or left:
        Segment.objects.filter(pk=segment.pk).update(
            member_count=F("member_count") + entered - left
        )
    return entered, left


def _refresh_all(segment: Segment, matching: Any, at: datetime) -> tuple[int, int]:
    """A full refresh: evaluate the definition ONCE into a temporary table of ids, then close
    the stays not in it and open stays for the ids without one (two hash anti-joins).

    Evaluating it once matters at scale: run inside the UPDATE's NOT EXISTS, the planner may
    repeat the whole behaviour scan per current member.
    """
    try:
        ids = matching.order_by().annotate(member_id=F("pk")).values_list("member_id")
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:
        sql, params = "", ()
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    at_value = SegmentMembership._meta.get_field("entered_at").get_db_prep_value(at, connection)
    with connection.cursor() as cursor:
        # Temporary tables are per connection: concurrent refreshes never see each other's.
        cursor.execute(f"DROP TABLE IF EXISTS {SEGMENT_IDS}")
        # CREATE … AS (not INSERT … SELECT) so that PostgreSQL may plan the query in parallel.
        # The ORM's compiled SELECT (column "member_id"); every value is a parameter.
        select = sql or f"SELECT id AS member_id FROM {Contact._meta.db_table} WHERE 1 = 0"  # noqa: S608
        cursor.execute(
            f"CREATE TEMPORARY TABLE {SEGMENT_IDS} AS SELECT m.member_id AS id FROM ({select}) m",  # noqa: S608
            params,
        )
        try:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {SEGMENT_IDS}")
            cursor.execute(
                f"UPDATE {table} SET left_at = %s WHERE segment_id = %s AND left_at IS NULL "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM {SEGMENT_IDS} s WHERE s.id = {table}.contact_id)",
                (at_value, segment.pk),
            )
            left = max(cursor.rowcount, 0)
            cursor.execute(
                f"INSERT INTO {table} (segment_id, contact_id, entered_at, left_at) "  # noqa: S608
                f"SELECT %s, s.id, %s, NULL FROM {SEGMENT_IDS} s WHERE NOT EXISTS ("
                f"SELECT 1 FROM {table} m WHERE m.segment_id = %s AND m.left_at IS NULL "
                "AND m.contact_id = s.id) ON CONFLICT DO NOTHING",
                (segment.pk, at_value, segment.pk),
            )
            entered = max(cursor.rowcount, 0)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {SEGMENT_IDS}")
    return entered, left


def refresh_segment(*, segment: Segment, now: datetime | None = None) -> tuple[int, int]:
    """Re-evaluate a dynamic segment for everyone; returns (entered, left)."""
    if segment.kind != SegmentKind.DYNAMIC:
        return 0, 0
    with transaction.atomic():
        # One refresh of a segment at a time (a full run and an incremental one may overlap).
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        return _refresh(segment, now or timezone.now())


def refresh_all_segments(*, now: datetime | None = None) -> int:
    """Refresh every dynamic segment (the schedule); returns how many were refreshed."""
    at = now or timezone.now()
    done = 0
    for segment in Segment.objects.filter(kind=SegmentKind.DYNAMIC).order_by("pk"):
        refresh_segment(segment=segment, now=at)
        done += 1
    return done


def refresh_for_contacts(*, contact_ids: Iterable[int], now: datetime | None = None) -> None:
    """Re-evaluate only these contacts against every dynamic segment (after their events)."""
    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        return
    at = now or timezone.now()
    segments = list(Segment.objects.filter(kind=SegmentKind.DYNAMIC).order_by("pk"))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for segment in segments:
            with transaction.atomic():
                Segment.objects.select_for_update().filter(pk=segment.pk).first()
                _refresh(segment, at, chunk)
