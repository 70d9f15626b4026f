"""Reads behind the deal board and the deal list: filters, column sums and keyset pages.

The board is one grouped query (count and Σ amount_base per stage) plus one short query per
stage for its top cards. Each card query names the pipeline, the status the stage implies and
the stage, then orders by amount: exactly the `deal_board` index, so it reads `per_stage` rows
however many deals the column holds. A single window-function query (ROW_NUMBER over stage)
would rank every visible deal of the pipeline first; at 100,000 deals that sort costs more
than the handful of index probes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import Role
from tandem.crm.models import Company
from tandem.errors import InvalidInput
from tandem.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_ID, MAX_LIMIT, Page
from tandem.sales.models import (
    Deal,
    DealKind,
    DealStatus,
    ForecastCategory,
    Pipeline,
    Stage,
    StageOutcome,
)

CENT = Decimal("0.01")
MAX_Q = 100
# Up to this many companies matching a search are inlined as ids (as crm.queries does).
COMPANY_IDS_INLINE = 1000

# Sort keys of the deal list → (column, nullable). Nothing else reaches order_by().
DEAL_SORTS: dict[str, tuple[str, bool]] = {
    "created": ("created_at", False),
    "name": ("name", False),
    "amount": ("amount_base", False),
    "close": ("expected_close_date", True),
    "stage_entered": ("stage_entered_at", False),
}
DEFAULT_SORT = "-created"
# What a list row shows (and every sort column, which the next cursor is made from).
LIST_FIELDS = (
    "name",
    "amount",
    "currency",
    "amount_base",
    "status",
    "kind",
    "expected_close_date",
    "created_at",
    "stage_entered_at",
    "closed_at",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "company__name",
    "stage__name",
    "stage__outcome",
    "pipeline__name",
    "pipeline__is_default",
)

FILTER_NAMES = (
    "pipeline",
    "stage",
    "status",
    "owner",
    "team",
    "q",
    "close_from",
    "close_to",
    "min_amount",
    "kind",
)


@dataclass(frozen=True)
class DealFilter:
    """What the board and the list may be narrowed by (the allow-list of filters)."""

    pipeline: int | None = None
    stage: int | None = None
    status: str = ""  # open | won | lost
    owner: str = ""  # a username, or "none" for unassigned
    team: int | None = None
    q: str = ""  # words of the deal's or its company's name
    close_from: date | None = None
    close_to: date | None = None
    min_amount: Decimal | None = None
    kind: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DealFilter:
        """A filter from loose values (an API query or form data); unknown names are a 400."""
        unknown = sorted(set(data) - set(FILTER_NAMES))
        if unknown:
            raise InvalidInput(
                f"cannot filter by {unknown[0]!r}; choose from {', '.join(FILTER_NAMES)}",
                field=unknown[0],
            )
        values: dict[str, Any] = {}
        for name in ("pipeline", "stage", "team"):
            values[name] = _id(data.get(name), name)
        for name in ("close_from", "close_to"):
            values[name] = _day(data.get(name), name)
        values["min_amount"] = _amount(data.get("min_amount"))
        status = _text(data.get("status"), "status")
        if status and status not in DealStatus.values:
            raise InvalidInput(
                f"status must be one of {', '.join(DealStatus.values)}", field="status"
            )
        kind = _text(data.get("kind"), "kind")
        if kind and kind not in DealKind.values:
            raise InvalidInput(f"kind must be one of {', '.join(DealKind.values)}", field="kind")
        values |= {
            "status": status,
            "kind": kind,
            "owner": _text(data.get("owner"), "owner")[:150],
            "q": _text(data.get("q"), "q")[:MAX_Q],
        }
        return cls(**values)

    def as_query(self) -> dict[str, str]:
        """The non-empty filters as query-string values (for links that keep them)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, ""):
                out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return out


def _text(value: Any, name: str) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        raise InvalidInput(f"{name} may not contain NUL characters", field=name)
    return text


def _id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be an id (a whole number)", field=name) from None
    if not 1 <= number <= MAX_ID:
        raise InvalidInput(f"{name} must be an id (a whole number)", field=name)
    return number


def _day(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-12-31", field=name) from None


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("min_amount must be a number", field="min_amount") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        raise InvalidInput("min_amount must be a number from 0", field="min_amount")
    return amount


def deals_for(user: Any, flt: DealFilter = DealFilter()) -> QuerySet[Deal]:
    """Deals the user may see, narrowed by the filter."""
    qs = permissions.visible(user, Deal.objects.all())
    if flt.pipeline is not None:
        qs = qs.filter(pipeline_id=flt.pipeline)
    if flt.stage is not None:
        qs = qs.filter(stage_id=flt.stage)
    if flt.status:
        qs = qs.filter(status=flt.status)
    if flt.owner:
        qs = (
            qs.filter(owner__isnull=True)
            if flt.owner == "none"
            else qs.filter(owner__username=flt.owner)
        )
    if flt.team is not None:
        qs = qs.filter(team_id=flt.team)
    if flt.close_from is not None:
        qs = qs.filter(expected_close_date__gte=flt.close_from)
    if flt.close_to is not None:
        qs = qs.filter(expected_close_date__lte=flt.close_to)
    if flt.min_amount is not None:
        qs = qs.filter(amount_base__gte=flt.min_amount)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.q:
        for word in flt.q.split()[:4]:
            qs = qs.filter(Q(name__icontains=word) | _company_name(word))
    return qs


def _company_name(word: str) -> Q:
    """Deals whose company's name contains word, without joining companies per deal row."""
    ids = list(
        Company.objects.filter(name__icontains=word).values_list("id", flat=True)[
            : COMPANY_IDS_INLINE + 1
        ]
    )
    if len(ids) > COMPANY_IDS_INLINE:
        return Q(company__name__icontains=word)
    return Q(company_id__in=ids) if ids else Q(pk__in=[])


# ---------------------------------------------------------------- the board


@dataclass
class Column:
    """One stage of the board: its totals over every matching deal, and its top cards."""

    stage: Stage
    count: int = 0
    total_base: Decimal = Decimal("0.00")
    weighted_base: Decimal = Decimal("0.00")
    deals: list[Deal] = field(default_factory=list)

    @property
    def more(self) -> int:
        """How many matching deals the column holds beyond the cards shown."""
        return self.count - len(self.deals)


STATUS_OF_OUTCOME = {
    StageOutcome.OPEN: DealStatus.OPEN,
    StageOutcome.WON: DealStatus.WON,
    StageOutcome.LOST: DealStatus.LOST,
}
# The won and lost columns hold the deals closed in these last days (the board is about what
# is moving; the list has every closed deal).
CLOSED_DAYS = 30
# Up to this many deals on a scoped board, one window query ranks them all for the cards;
# beyond it (a manager of big teams) the per-stage queries read less.
RANK_AT_MOST = 2000


def _no_index(column: str) -> Any:
    """The column as `column + 0`: the same value, which SQLite cannot look up by an index.

    SQLite's planner likes walking the stage_id index to group by stage without sorting, and
    for a rep prefers the deal_board index (a quarter of the table) over the rep's own rows;
    both read far more rows than they need. PostgreSQL plans these on statistics, so it gets
    the plain column.
    """
    return F(column) + 0 if connection.vendor == "sqlite" else F(column)


def board(
    *,
    user: Any,
    pipeline: Pipeline,
    filters: DealFilter | None = None,
    per_stage: int = 20,
    now: datetime | None = None,
) -> list[Column]:
    """The pipeline's stages in order, each with count, Σ and weighted Σ (reporting currency)
    of the deals the user may see, and its `per_stage` largest deals; won and lost stages hold
    the deals closed in the last CLOSED_DAYS days, most recent first."""
    flt = filters or DealFilter()
    if not 0 <= per_stage <= MAX_LIMIT:
        raise InvalidInput(f"per_stage must be between 0 and {MAX_LIMIT}", field="per_stage")
    since = (now or timezone.now()) - timedelta(days=CLOSED_DAYS)
    stages = list(pipeline.stages.order_by("position"))
    columns = {s.pk: Column(stage=s) for s in stages}
    base = deals_for(user, flt).order_by()
    scoped = bool(permissions.visible(user, Deal.objects.all()).query.where)
    if scoped:
        # A scoped user: let the scope's own indexes (owner, team) find the rows.
        base = base.alias(on_pipeline=_no_index("pipeline_id")).filter(on_pipeline=pipeline.pk)
    else:
        base = base.filter(pipeline=pipeline)
    open_deals = base.filter(status=DealStatus.OPEN)
    closed = base.filter(status__in=[DealStatus.WON, DealStatus.LOST], closed_at__gte=since)
    ranked = bool(per_stage) and getattr(user, "role", None) == Role.SALES_REP
    if ranked:
        # A rep's book is small: one query ranks it by stage and carries each stage's count
        # and sum on the cards it keeps.
        _ranked_with_sums(columns, open_deals, closed, per_stage)
    else:
        _grouped_sums(columns, open_deals, closed)
    for column in columns.values():
        if column.stage.forecast_category != ForecastCategory.OMITTED:
            weighted = column.total_base * column.stage.probability / 100
            column.weighted_base = weighted.quantize(CENT, rounding=ROUND_HALF_UP)
    total = sum(c.count for c in columns.values())
    if per_stage and not ranked and total:
        if scoped and total <= RANK_AT_MOST:
            _cards_ranked(columns, open_deals, closed, per_stage)
        else:
            _cards_per_stage(columns, open_deals, closed, per_stage)
    return [columns[s.pk] for s in stages]


def _grouped_sums(columns: dict[int, Column], open_deals: QuerySet, closed: QuerySet) -> None:
    """Count and Σ per stage in one grouped query: open deals by stage (the deal_board index
    holds every column it reads) and the recently closed by stage (the deal_closed index)."""
    sums = ("n", "total")
    # COUNT(*), not COUNT(id): the id is not in deal_board, so counting it made PostgreSQL
    # visit the table for every open deal instead of scanning the index alone (27 → 8 ms).
    grouped = (
        open_deals.values("stage_id")
        .annotate(n=Count("*"), total=Sum("amount_base"))
        .values_list("stage_id", *sums)
        .union(
            closed.annotate(column=_no_index("stage_id"))
            .values("column")
            .annotate(n=Count("*"), total=Sum("amount_base"))
            .values_list("column", *sums),
            all=True,
        )
    )
    for stage_id, count, total in grouped:
        column = columns.get(stage_id)
        if column is None:
            continue
        column.count += count
        column.total_base = (column.total_base + Decimal(total or 0)).quantize(CENT)


def _ranking() -> Window:
    """Within a stage: open deals largest first, closed ones most recently closed first."""
    return Window(
        RowNumber(),
        partition_by=[F("stage_id")],
        order_by=[
            Case(
                When(status=DealStatus.OPEN, then=F("amount_base")),
                default=Value(Decimal(0)),
                output_field=DecimalField(),
            ).desc(),
            F("closed_at").desc(nulls_last=True),
            F("id").asc(),
        ],
    )


def _ranked_with_sums(
    columns: dict[int, Column], open_deals: QuerySet, closed: QuerySet, per_stage: int
) -> None:
    """Cards, counts and sums of a small board in one query: window sums over each stage's
    rows, then the first `per_stage` rows of each stage."""
    stage = [F("stage_id")]
    live = (
        (open_deals | closed)
        .annotate(
            rank=_ranking(),
            stage_count=Window(Count("id"), partition_by=stage),
            stage_total=Window(Sum("amount_base"), partition_by=stage),
        )
        .filter(rank__lte=per_stage)
    )
    for deal in live.select_related("owner", "company").order_by("stage_id", "rank"):
        column = columns.get(deal.stage_id)
        if column is None:
            continue
        column.deals.append(deal)
        column.count = deal.stage_count
        column.total_base = Decimal(deal.stage_total or 0).quantize(CENT)


# What a card shows (sales/_deal_card.html): reading only these halves the cards' fetch.
CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "currency",
    "amount_base",
    "status",
    "pipeline_id",
    "stage_id",
    "expected_close_date",
    "closed_at",
    "company__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def _cards_per_stage(
    columns: dict[int, Column], open_deals: QuerySet, closed: QuerySet, per_stage: int
) -> None:
    """Everybody's deals: one short query per stage, each walking the deal_board (open) or
    deal_closed (won, lost) index and stopping after `per_stage` rows."""
    for column in columns.values():
        if not column.count:
            continue
        status = STATUS_OF_OUTCOME[StageOutcome(column.stage.outcome)]
        if status == DealStatus.OPEN:
            cards = open_deals.filter(stage=column.stage).order_by("-amount_base", "id")
        else:
            cards = closed.filter(status=status, stage=column.stage)
            cards = cards.order_by("-closed_at", "-id")
        column.deals = list(cards.select_related("owner", "company").only(*CARD_FIELDS)[:per_stage])


def _cards_ranked(
    columns: dict[int, Column], open_deals: QuerySet, closed: QuerySet, per_stage: int
) -> None:
    """A rep's or a manager's deals: one query ranks the (few thousand) visible deals within
    their stage and keeps the first `per_stage` of each; per-stage queries would each walk a
    stage's whole index range to find the user's rows."""
    rank = _ranking()
    live = (open_deals | closed).annotate(rank=rank).filter(rank__lte=per_stage)
    for deal in live.select_related("owner", "company").order_by("stage_id", "rank"):
        column = columns.get(deal.stage_id)
        if column is not None:
            column.deals.append(deal)


# ---------------------------------------------------------------- the list


def _encode(last: Deal, column: str) -> str:
    value = getattr(last, column)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    body = {"after": last.pk, "v": value}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def _decode(cursor: str, column: str) -> tuple[int, Any]:
    """The (id, sort value) a cursor points after; anything malformed is a 400."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH + 200:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, raw = body["after"], body["v"]
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
            raise ValueError
        if raw is None:
            return after, None
        if not isinstance(raw, str) or len(raw) > 400 or "\x00" in raw:
            raise ValueError
        value: Any = raw
        if column in ("created_at", "stage_entered_at"):
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError
        elif column == "expected_close_date":
            value = date.fromisoformat(raw)
        elif column == "amount_base":
            value = Decimal(raw)
            if not value.is_finite():
                raise ValueError
        return after, value
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError, OverflowError):
        raise InvalidInput("cursor is not a cursor this list returned", field="cursor") from None
    except (InvalidOperation, RecursionError):
        raise InvalidInput("cursor is not a cursor this list returned", field="cursor") from None


def sort_key(sort: str) -> tuple[str, bool, bool]:
    """(column, descending, nullable) of an allow-listed sort like "-amount"; else a 400."""
    name = (sort or DEFAULT_SORT).removeprefix("-")
    if name not in DEAL_SORTS:
        raise InvalidInput(
            f"cannot sort by {name!r}; choose one of {', '.join(sorted(DEAL_SORTS))}",
            field="sort",
        )
    column, nullable = DEAL_SORTS[name]
    return column, (sort or DEFAULT_SORT).startswith("-"), nullable


def deal_list(
    *,
    user: Any,
    filters: DealFilter | None = None,
    sort: str = DEFAULT_SORT,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page:
    """One keyset page of the deals the user may see, in an allow-listed order (id breaks ties;
    empty close dates sort last either way)."""
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    column, descending, nullable = sort_key(sort)
    base = deals_for(user, filters or DealFilter())
    expr = F(column)
    value_order = expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True)
    if not nullable:
        value_order = expr.desc() if descending else expr.asc()
    order = [value_order, "-id" if descending else "id"]
    qs = base
    if cursor:
        after, value = _decode(cursor, column)
        op = "lt" if descending else "gt"
        if value is None:
            if not nullable:
                raise InvalidInput("cursor is not a cursor this list returned", field="cursor")
            qs = qs.filter(**{f"{column}__isnull": True, f"id__{op}": after})
        else:
            later = Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": after})
            if nullable:
                later |= Q(**{f"{column}__isnull": True})
            qs = qs.filter(later)
    # As tandem.pagination does: find the page's ids, then fetch those rows with their joins.
    page_ids = list(qs.order_by(*order).values_list("id", flat=True)[: size + 1])
    more = len(page_ids) > size
    page_ids = page_ids[:size]
    rows = list(
        Deal.objects.filter(id__in=page_ids)
        .select_related("owner", "company", "stage", "pipeline")
        .only(*LIST_FIELDS)
        .order_by(*order)
    )
    if not (more and rows):
        return Page(items=rows, next_cursor=None)
    return Page(items=rows, next_cursor=_encode(rows[-1], column))
