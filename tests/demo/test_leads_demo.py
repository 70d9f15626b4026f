"""The demo's leads world: scores that explain themselves, segments, a model, routed hand-offs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import F

from tandem.crm.models import Contact, LifecycleChange
from tandem.demo import pipeline
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    LeadScore,
    MqlCommitment,
    PredictiveModel,
    RoutingRule,
    ScoreRule,
    Segment,
    SegmentMembership,
)
from tandem.leads.queries.scoring import explain_score
from tandem.leads.queries.segments import segment_members
from tandem.leads.segments import compile_definition

ANCHOR = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def demo_mode(settings: Any) -> None:
    settings.DEBUG = True


@pytest.mark.django_db
def test_the_leads_world() -> None:
    # One build (the model needs a few thousand contacts to have 50 customers to learn from)
    pipeline.build(seed=11, contacts=2500, now=ANCHOR)
    scores_are_stored_mirrored_and_explained()
    segments_hold_what_their_definitions_select()
    a_model_is_trained_with_better_than_chance_auc()
    handoffs_replay_the_history_with_a_realistic_mix()


def scores_are_stored_mirrored_and_explained() -> None:
    # Every score row's total is fit + engagement (contacts without a row score 0 on both)
    assert LeadScore.objects.count() > Contact.objects.count() * 0.8
    assert not LeadScore.objects.exclude(total=F("fit") + F("engagement")).exists()
    assert not Contact.objects.filter(lead_score__isnull=True).exclude(score=0).exists()
    # and Contact.score mirrors it
    assert (
        not Contact.objects.filter(lead_score__isnull=False)
        .exclude(score=F("lead_score__total"))
        .exists()
    )
    assert ScoreRule.objects.filter(axis="fit").count() >= 5
    assert ScoreRule.objects.filter(axis="engagement").count() >= 5
    # Scores spread out: a flat distribution would show nothing
    totals = list(LeadScore.objects.values_list("total", flat=True))
    assert len(set(totals)) > 20
    # When the busiest contact's score is explained, the parts sum to the stored total
    top = Contact.objects.order_by("-score", "id").first()
    assert top is not None and top.score > 0
    explanation = explain_score(contact=top, now=ANCHOR)
    assert explanation.total == top.score


def segments_hold_what_their_definitions_select() -> None:
    dynamic = Segment.objects.filter(kind="dynamic")
    assert dynamic.count() >= 5
    assert Segment.objects.filter(kind="static", member_count__gt=0).exists()
    non_empty = 0
    for segment in dynamic:
        expected = set(
            Contact.objects.filter(compile_definition(segment.definition, now=ANCHOR)).values_list(
                "pk", flat=True
            )
        )
        assert set(segment_members(segment).values_list("pk", flat=True)) == expected, segment.name
        assert segment.member_count == len(expected)
        non_empty += bool(expected)
    assert non_empty >= 4
    assert SegmentMembership.objects.filter(left_at__isnull=True).count() > 0


def a_model_is_trained_with_better_than_chance_auc() -> None:
    model = PredictiveModel.objects.get(is_current=True)
    best = max(model.baseline_auc or 0, model.challenger_auc or 0)
    assert best > 0.6
    assert model.factors and model.reliability
    assert LeadScore.objects.filter(probability__isnull=False).exists()


def handoffs_replay_the_history_with_a_realistic_mix() -> None:
    # Every move to MQL is a hand-off (re-routes add assignments, never remove one)
    mqls = LifecycleChange.objects.filter(to_stage="mql").count()
    first_attempts = LeadAssignment.objects.filter(attempt=1).count()
    assert first_attempts == mqls
    statuses = Counter(LeadAssignment.objects.values_list("status", flat=True))
    decided = statuses[AssignmentStatus.ACCEPTED] + statuses[AssignmentStatus.REJECTED]
    # Half the MQLs are accepted (the stage model's MQL→SQL rate), the rest mostly sent back
    assert 0.4 <= statuses[AssignmentStatus.ACCEPTED] / decided <= 0.6
    assert statuses[AssignmentStatus.PENDING] > 0
    # Every rejection carries a reason; nurture reasons that need one carry a recycle date
    rejected = LeadAssignment.objects.filter(status=AssignmentStatus.REJECTED)
    assert not rejected.filter(reason__isnull=True).exists()
    assert not rejected.filter(reason__needs_recycle_date=True, recycle_on__isnull=True).exists()
    # Some SLAs were breached, not all
    breached = LeadAssignment.objects.filter(accept_breached_at__isnull=False).count()
    assert 0 < breached < LeadAssignment.objects.count() / 2
    # A pending lead is assigned to a rep whose inbox shows it
    pending = LeadAssignment.objects.filter(status=AssignmentStatus.PENDING).first()
    assert pending is not None and pending.rep is not None
    assert RoutingRule.objects.count() >= 2
    assert MqlCommitment.objects.exists()
