"""Reads for the model page: the current model, what training still lacks, current probabilities."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Floor
from django.utils import timezone

from tandem.crm.models import Contact, LifecycleChange
from tandem.leads import predictive as engine
from tandem.leads.models import LeadScore, PredictiveModel
from tandem.leads.services import predictive as services
from tandem.marketing.models import Persona

DISTRIBUTION_BINS = 10


def current_model() -> PredictiveModel | None:
    """The model whose probabilities are in use, if one was ever trained."""
    return PredictiveModel.objects.filter(is_current=True).first()


def training_readiness(*, now: datetime | None = None) -> dict[str, int]:
    """How many contacts are old enough to train on, how many became customers, and the minimums."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=services.OUTCOME_AGE_DAYS)
    won = Q(lifecycle_stage__in=services.WON_STAGES) | Q(
        Exists(
            LifecycleChange.objects.filter(
                contact_id=OuterRef("pk"), to_stage__in=services.WON_STAGES
            )
        )
    )
    counts = Contact.objects.filter(created_at__lte=cutoff).aggregate(
        eligible=Count("pk"), positives=Count("pk", filter=won)
    )
    return {
        "eligible": counts["eligible"],
        "positives": counts["positives"],
        "negatives": counts["eligible"] - counts["positives"],
        "min_positives": services.MIN_POSITIVES,
        "min_negatives": services.MIN_NEGATIVES,
        "outcome_age_days": services.OUTCOME_AGE_DAYS,
    }


def probability_distribution() -> list[dict[str, Any]]:
    """Stored probabilities in ten equal-width bins (one grouped query)."""
    counts: dict[int, int] = {}
    rows = (
        LeadScore.objects.filter(probability__isnull=False)
        .annotate(bucket=Floor(F("probability") * DISTRIBUTION_BINS))
        .order_by()
        .values("bucket")
        .annotate(n=Count("pk"))
        .values_list("bucket", "n")
    )
    for bucket, n in rows:
        # A probability of exactly 1 belongs to the last bin.
        at = min(int(bucket), DISTRIBUTION_BINS - 1)
        counts[at] = counts.get(at, 0) + n
    out = []
    for b in range(DISTRIBUTION_BINS):
        out.append(
            {
                "lower": b / DISTRIBUTION_BINS,
                "upper": (b + 1) / DISTRIBUTION_BINS,
                "count": counts.get(b, 0),
            }
        )
    return out


def factor_rows(model: PredictiveModel) -> list[dict[str, Any]]:
    """The model's top factors with readable feature and value labels (persona ids → names)."""
    persona_ids = {
        int(f["value"])
        for f in model.factors
        if f["feature"] == "persona" and str(f["value"]).isdigit()
    }
    names = dict(Persona.objects.filter(id__in=persona_ids).values_list("id", "name"))
    out = []
    for factor in model.factors:
        value = factor["value"]
        if factor["feature"] == "persona" and str(value).isdigit():
            value = names.get(int(value), f"persona #{value} (deleted)")
        out.append(
            {
                **factor,
                "feature_label": engine.FEATURE_LABELS.get(factor["feature"], factor["feature"]),
                "value_label": value if value != "" else "(unknown)",
                "direction": (
                    "raises"
                    if factor["weight"] > 0
                    else "lowers"
                    if factor["weight"] < 0
                    else "none"
                ),
            }
        )
    return out
