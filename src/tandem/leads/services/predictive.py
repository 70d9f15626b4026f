"""Train the predictive model from history and store every open contact's probability.

Loading is set-based: contacts are read in id-ordered chunks, and each chunk costs three
queries (the contacts with their company, the timeline aggregates, the touchpoint aggregate),
never one per contact. The mathematics lives in `tandem.leads.predictive`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, F, Func, Q, QuerySet
from django.utils import timezone

from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.leads import predictive as engine
from tandem.leads.models import LeadScore, PredictiveModel
from tandem.marketing.models import Touchpoint

log = logging.getLogger(__name__)

# A contact needs this long since creation before its outcome (customer or not) counts.
OUTCOME_AGE_DAYS = 90
# Engagement is counted only up to this many days after creation, for training and scoring
# alike, so the model never learns from what a contact did after it had (or had not) bought.
ENGAGEMENT_DAYS = 60
MIN_POSITIVES = 50
MIN_NEGATIVES = 50
CHUNK = 5000

# Only the probability column is updated; a new row starts with rule scores 0. Plain SQL
# because the ORM's bulk_create(update_conflicts=...) splits SQLite batches into 166-row
# statements and spends more time compiling them than the database spends running them.
# ON CONFLICT ... DO UPDATE reads the same on SQLite (3.24+) and PostgreSQL.
UPSERT_PROBABILITY = (
    "INSERT INTO leads_leadscore (contact_id, fit, engagement, total, probability, computed_at)"
    " VALUES (%s, 0, 0, 0, %s, %s)"
    " ON CONFLICT (contact_id) DO UPDATE SET probability = excluded.probability"
)

WON_STAGES = ("customer", "evangelist")
CLOSED_STAGES = ("customer", "evangelist", "disqualified")
# Timeline event type → engagement feature.
EVENT_FEATURES: dict[str, str] = {
    "page_view": "page_views",
    "form_submit": "form_submits",
    "content_view": "content_views",
    "content_download": "content_views",
    "link_click": "link_clicks",
}
CONTACT_COLUMNS = (
    "id",
    "persona_id",
    "company__industry",
    "company__employees",
    "company__country",
    "company__region",
    "original_source",
    "title",
    "lifecycle_stage",
)


@dataclass
class Loaded:
    """Contacts' ids, feature rows and (for training) outcomes, in id order."""

    ids: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[int] = field(default_factory=list)


def _fit_row(values: tuple[Any, ...]) -> dict[str, Any]:
    (_, persona_id, industry, employees, country, region, source, title, _) = values
    return {
        "persona": "" if persona_id is None else str(persona_id),
        "industry": (industry or "").strip(),
        "company_size": engine.company_size_band(employees),
        "country": (country or "").upper(),
        "region": (region or "").strip(),
        "source": source or "",
        "seniority": engine.title_seniority(title),
    }


class _DaysAfter(Func):
    """A datetime column plus N whole days, computed by the database itself.

    Django's generic `F(...) + timedelta` calls back into Python for every row on SQLite,
    which was most of the cost of a chunk there. SQLite stores Django datetimes as UTC text
    "YYYY-MM-DD HH:MM:SS[.ffffff]": shifting only the date part keeps the time exactly, in the
    same text format, so comparing the texts compares the instants.
    """

    output_field = DateTimeField()

    def __init__(self, column: str, days: int) -> None:
        super().__init__(F(column))
        self.days = int(days)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        shifted = f"DATE(SUBSTR({sql}, 1, 10), '+{self.days} days') || SUBSTR({sql}, 11)"
        return shifted, (*params, *params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} + make_interval(days => {self.days}))", params


def _engagement(*, ids: list[int], now: datetime, by_range: bool) -> dict[int, dict[str, int]]:
    """Engagement counts of these contacts up to ENGAGEMENT_DAYS after creation (and now)."""
    # Visits stitched from before the contact existed count too: they were known at that time.
    window = Q(occurred_at__lt=_DaysAfter("contact__created_at", ENGAGEMENT_DAYS)) & Q(
        occurred_at__lte=now
    )
    who = Q(contact_id__gte=ids[0], contact_id__lte=ids[-1]) if by_range else Q(contact_id__in=ids)
    out: dict[int, dict[str, int]] = {}
    # No filter on type: with one, SQLite scans the (type, occurred_at) index over every
    # contact; without, it walks (contact, occurred_at) for this chunk only. Other types are
    # grouped away cheaply and skipped below.
    events = (
        TimelineEvent.objects.filter(who, window)
        .order_by()
        .values("contact_id", "type")
        .annotate(n=Count("id"))
        .values_list("contact_id", "type", "n")
    )
    for contact_id, kind, n in events:
        name = EVENT_FEATURES.get(kind)
        if name is None:
            continue
        counts = out.setdefault(contact_id, {})
        counts[name] = counts.get(name, 0) + n
    touches = (
        # COUNT(DISTINCT) skips touches without a campaign; filtering them out instead would
        # steer SQLite onto the (campaign, occurred_at) index.
        Touchpoint.objects.filter(who, window)
        .order_by()
        .values("contact_id")
        .annotate(n=Count("campaign_id", distinct=True))
        .values_list("contact_id", "n")
    )
    for contact_id, n in touches:
        out.setdefault(contact_id, {})["campaigns"] = n
    return out


def _chunks(
    contacts: QuerySet[Contact], *, now: datetime, by_range: bool
) -> Iterator[tuple[list[tuple[Any, ...]], list[dict[str, Any]]]]:
    """(contact value tuples, feature rows) per id-ordered chunk."""
    last = 0
    while True:
        values = list(
            contacts.filter(id__gt=last).order_by("id").values_list(*CONTACT_COLUMNS)[:CHUNK]
        )
        if not values:
            return
        ids = [v[0] for v in values]
        engagement = _engagement(ids=ids, now=now, by_range=by_range)
        rows = []
        for v in values:
            row = _fit_row(v)
            row.update(engagement.get(v[0], {}))
            rows.append(row)
        yield values, rows
        last = ids[-1]


def load_training_data(*, now: datetime) -> Loaded:
    """Contacts old enough to have an outcome, their features and whether they became customers."""
    cutoff = now - timedelta(days=OUTCOME_AGE_DAYS)
    loaded = Loaded()
    eligible = Contact.objects.filter(created_at__lte=cutoff)
    for values, rows in _chunks(eligible, now=now, by_range=True):
        ids = [v[0] for v in values]
        won = set(
            LifecycleChange.objects.filter(
                contact_id__gte=ids[0], contact_id__lte=ids[-1], to_stage__in=WON_STAGES
            ).values_list("contact_id", flat=True)
        )
        for v, row in zip(values, rows, strict=True):
            loaded.ids.append(v[0])
            loaded.rows.append(row)
            loaded.outcomes.append(int(v[0] in won or v[-1] in WON_STAGES))
    return loaded


def train_model(*, now: datetime | None = None) -> PredictiveModel | None:
    """Train both models, store the better one as current and score every open contact."""
    now = now or timezone.now()
    loaded = load_training_data(now=now)
    positives = sum(loaded.outcomes)
    negatives = len(loaded.outcomes) - positives
    if positives < MIN_POSITIVES or negatives < MIN_NEGATIVES:
        log.info(
            "predictive model not trained: %d contacts older than %d days, %d became customers "
            "and %d did not; at least %d of each are needed",
            len(loaded.outcomes),
            OUTCOME_AGE_DAYS,
            positives,
            negatives,
            MIN_POSITIVES,
        )
        return None
    result = engine.train(engine.make_dataset(loaded.rows, loaded.outcomes))
    model = _store(result=result, now=now)
    score_probabilities(model=model, now=now)
    return model


@transaction.atomic
def _store(*, result: engine.TrainingResult, now: datetime) -> PredictiveModel:
    """The new current model row; the previous one stops being current in the same transaction."""
    PredictiveModel.objects.filter(is_current=True).update(is_current=False)
    return PredictiveModel.objects.create(
        trained_at=now,
        training_rows=result.training_rows,
        positives=result.positives,
        holdout_rows=result.holdout_rows,
        baseline_auc=result.baseline_auc,
        challenger_auc=result.challenger_auc,
        chosen=result.chosen,
        parameters=result.parameters,
        reliability=result.reliability,
        factors=result.factors,
        is_current=True,
    )


def predict_contacts(
    *, contact_ids: Iterable[int] | None = None, model: PredictiveModel, now: datetime
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(ids, probabilities) per chunk of open contacts, from the model's JSON parameters."""
    open_contacts = Contact.objects.exclude(lifecycle_stage__in=CLOSED_STAGES)
    by_range = contact_ids is None
    if contact_ids is not None:
        open_contacts = open_contacts.filter(id__in=list(contact_ids))
    for values, rows in _chunks(open_contacts, now=now, by_range=by_range):
        data = engine.make_dataset(rows)
        yield [v[0] for v in values], engine.predict_from_parameters(model.parameters, data)


def score_probabilities(
    *,
    contact_ids: Iterable[int] | None = None,
    model: PredictiveModel | None = None,
    now: datetime | None = None,
) -> int:
    """Write LeadScore.probability of open contacts (all, or these); returns how many were written.

    Only the probability column is written: a contact without a LeadScore row gets one with
    fit, engagement and total 0, and an existing row keeps its rule scores. Without a current
    model nothing is written. Each chunk commits on its own so a long run never holds the
    database's write lock for minutes (SQLite has one writer).
    """
    now = now or timezone.now()
    model = model or PredictiveModel.objects.filter(is_current=True).first()
    if model is None:
        return 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    written = 0
    for ids, probabilities in predict_contacts(contact_ids=contact_ids, model=model, now=now):
        rows = [
            (contact_id, round(float(p), 6), stamp)
            for contact_id, p in zip(ids, probabilities, strict=True)
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(UPSERT_PROBABILITY, rows)
        written += len(rows)
    if contact_ids is None:
        # Customers and disqualified contacts have no open outcome to predict any more.
        LeadScore.objects.filter(
            probability__isnull=False, contact__lifecycle_stage__in=CLOSED_STAGES
        ).update(probability=None)
    return written
