"""Training from the database and writing probabilities (set-based, probability column only)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tandem.crm.models import Company, Contact, LifecycleChange, TimelineEvent
from tandem.leads.models import LeadScore, PredictiveModel
from tandem.leads.services import predictive
from tandem.marketing.models import Touchpoint
from tests.marketing.factories import CampaignFactory

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=10)


def build_history(*, software: int = 120, retail: int = 120, now: datetime = NOW) -> dict[str, Any]:
    """Old contacts whose outcome depends on industry: 3 in 4 Software contacts became customers,
    1 in 4 Retail ones. A third of the winners viewed pages in their first days; every loser
    viewed pages long after (day 100), which must not count. Plus recent open contacts to score.
    """
    old = now - timedelta(days=200)
    soft = Company.objects.create(
        name="Soft",
        domain="soft.example",
        industry="Software",
        employees=300,
        country="us",
        created_at=old,
    )
    shop = Company.objects.create(
        name="Shop",
        domain="shop.example",
        industry="Retail",
        employees=20,
        country="GB",
        created_at=old,
    )
    contacts = []
    won_ids: list[int] = []
    for i in range(software + retail):
        is_soft = i < software
        k = i if is_soft else i - software
        won = (k % 4 != 0) if is_soft else (k % 4 == 0)
        # Half the winners are customers now; the other half reached customer and later left.
        stage = ("customer" if k % 2 == 0 else "disqualified") if won else "lead"
        contacts.append(
            Contact(
                email=f"history{i}@example.com",
                company=soft if is_soft else shop,
                title="Marketing Manager",
                lifecycle_stage=stage,
                original_source="email",
                created_at=old,
            )
        )
    contacts = Contact.objects.bulk_create(contacts)
    events = []
    changes = []
    for i, contact in enumerate(contacts):
        k = i if i < software else i - software
        won = (k % 4 != 0) if i < software else (k % 4 == 0)
        if won:
            won_ids.append(contact.pk)
            changes.append(
                LifecycleChange(
                    contact=contact,
                    from_stage="opportunity",
                    to_stage="customer",
                    changed_at=old + timedelta(days=30),
                )
            )
            days = [1, 2, 3] if k % 3 == 0 else []
        else:
            days = [100, 101, 102, 103]
        for d in days:
            events.append(
                TimelineEvent(
                    type="page_view",
                    occurred_at=old + timedelta(days=d),
                    contact=contact,
                    idempotency_key=f"test:pv:{contact.pk}:{d}",
                )
            )
    TimelineEvent.objects.bulk_create(events)
    LifecycleChange.objects.bulk_create(changes)
    recent_soft = Contact.objects.create(
        email="recent-soft@example.com",
        company=soft,
        lifecycle_stage="lead",
        original_source="email",
        created_at=now - timedelta(days=10),
    )
    recent_shop = Contact.objects.create(
        email="recent-shop@example.com",
        company=shop,
        lifecycle_stage="mql",
        original_source="email",
        created_at=now - timedelta(days=10),
    )
    recent_customer = Contact.objects.create(
        email="recent-customer@example.com",
        company=soft,
        lifecycle_stage="customer",
        original_source="email",
        created_at=now - timedelta(days=10),
    )
    return {
        "contacts": contacts,
        "won_ids": won_ids,
        "recent_soft": recent_soft,
        "recent_shop": recent_shop,
        "recent_customer": recent_customer,
    }


@pytest.mark.django_db
def test_too_little_data_returns_none(caplog: pytest.LogCaptureFixture) -> None:
    build_history(software=40, retail=40)  # 30 + 10 = 40 customers, fewer than 50
    with caplog.at_level(logging.INFO, logger="tandem.leads.services.predictive"):
        assert predictive.train_model(now=NOW) is None
    assert "80 contacts older than 90 days, 40 became customers and 40 did not" in caplog.text
    assert PredictiveModel.objects.count() == 0
    assert LeadScore.objects.count() == 0


@pytest.mark.django_db
def test_recent_contacts_are_not_training_rows() -> None:
    build_history(software=120, retail=120)
    # 10 days later than NOW minus 90 days the old ones qualify; the recent ones never do.
    loaded = predictive.load_training_data(now=NOW)
    assert len(loaded.ids) == 240
    assert sum(loaded.outcomes) == 120
    assert predictive.load_training_data(now=OLD + timedelta(days=89)).ids == []


@pytest.mark.django_db
def test_training_features_count_only_the_first_60_days() -> None:
    history = build_history(software=8, retail=8)
    first = history["contacts"][3]  # Software, won, k=3: page views on days 1-3
    loser = history["contacts"][4]  # Software, k=4: lost, page views on days 100-103 only
    campaign_a, campaign_b = CampaignFactory(), CampaignFactory()
    for n, (campaign, day) in enumerate([(campaign_a, 5), (campaign_a, 6), (campaign_b, 70)]):
        Touchpoint.objects.create(
            contact=first,
            campaign=campaign,
            channel="email",
            kind="click",
            occurred_at=OLD + timedelta(days=day),
            idempotency_key=f"test:touch:{n}",
        )
    loaded = predictive.load_training_data(now=NOW)
    rows = dict(zip(loaded.ids, loaded.rows, strict=True))
    outcomes = dict(zip(loaded.ids, loaded.outcomes, strict=True))
    assert rows[first.pk] == {
        "persona": "",
        "industry": "Software",
        "company_size": "200-999",
        "country": "US",
        "region": "",
        "source": "email",
        "seniority": "manager",
        "page_views": 3,
        "campaigns": 1,  # campaign A twice in the window; B on day 70 is too late
    }
    assert outcomes[first.pk] == 1
    assert rows[loser.pk]["industry"] == "Software"
    assert "page_views" not in rows[loser.pk]  # day 100+ is outside the window
    assert outcomes[loser.pk] == 0
    # A churned customer (disqualified now, LifecycleChange to customer) is a positive.
    churned = history["contacts"][1]
    assert Contact.objects.get(pk=churned.pk).lifecycle_stage == "disqualified"
    assert outcomes[churned.pk] == 1


@pytest.mark.django_db
def test_train_stores_the_current_model_and_scores_open_contacts() -> None:
    history = build_history()
    kept = LeadScore.objects.create(
        contact=history["recent_soft"],
        fit=30,
        engagement=12,
        total=42,
        computed_at=NOW - timedelta(days=3),
    )
    closed = LeadScore.objects.create(
        contact=history["recent_customer"],
        fit=5,
        engagement=5,
        total=10,
        probability=0.9,
        computed_at=NOW - timedelta(days=3),
    )
    model = predictive.train_model(now=NOW)
    assert model is not None
    model.refresh_from_db()
    assert model.is_current
    assert (model.training_rows, model.positives, model.holdout_rows) == (240, 120, 60)
    assert model.chosen in {"naive_bayes", "logistic"}
    best = max(model.baseline_auc or 0, model.challenger_auc or 0)
    assert best == (model.baseline_auc if model.chosen == "naive_bayes" else model.challenger_auc)
    assert best > 0.7
    assert "calibration" in model.parameters
    assert len(model.reliability) == 10
    assert sum(b["count"] for b in model.reliability) == 60
    assert model.factors[0]["feature"] in {"industry", "page_views"}

    kept.refresh_from_db()
    assert (kept.fit, kept.engagement, kept.total) == (30, 12, 42)
    assert kept.computed_at == NOW - timedelta(days=3)
    assert kept.probability is not None
    shop = LeadScore.objects.get(contact=history["recent_shop"])
    assert (shop.fit, shop.engagement, shop.total, shop.computed_at) == (0, 0, 0, NOW)
    assert kept.probability > shop.probability  # Software beats Retail
    closed.refresh_from_db()
    assert closed.probability is None
    assert (closed.fit, closed.total) == (5, 10)
    # Open = not customer/evangelist/disqualified: the 120 old losers and the two recent leads.
    assert LeadScore.objects.filter(probability__isnull=False).count() == 122
    assert not LeadScore.objects.filter(contact_id__in=history["won_ids"]).exists()


@pytest.mark.django_db
def test_stored_probabilities_are_rebuilt_from_the_stored_json() -> None:
    build_history()
    model = predictive.train_model(now=NOW)
    assert model is not None
    stored = dict(
        LeadScore.objects.filter(probability__isnull=False).values_list("contact_id", "probability")
    )
    fresh = PredictiveModel.objects.get(pk=model.pk)  # parameters read back from the database
    rebuilt: dict[int, float] = {}
    for ids, probabilities in predictive.predict_contacts(model=fresh, now=NOW):
        rebuilt.update(zip(ids, probabilities.tolist(), strict=True))
    assert set(rebuilt) == set(stored)
    assert all(abs(rebuilt[i] - stored[i]) < 1e-6 for i in stored)


@pytest.mark.django_db
def test_retraining_replaces_the_current_model() -> None:
    build_history()
    first = predictive.train_model(now=NOW)
    second = predictive.train_model(now=NOW + timedelta(days=7))
    assert first is not None and second is not None
    first.refresh_from_db()
    assert not first.is_current
    assert list(PredictiveModel.objects.filter(is_current=True)) == [second]


@pytest.mark.django_db
def test_score_some_contacts_and_without_a_model() -> None:
    history = build_history()
    assert predictive.score_probabilities(contact_ids=[history["recent_soft"].pk]) == 0
    assert LeadScore.objects.count() == 0
    model = predictive.train_model(now=NOW)
    assert model is not None
    LeadScore.objects.all().delete()
    written = predictive.score_probabilities(
        contact_ids=[history["recent_soft"].pk, history["recent_customer"].pk], now=NOW
    )
    assert written == 1  # the customer is not open
    assert list(LeadScore.objects.values_list("contact_id", flat=True)) == [
        history["recent_soft"].pk
    ]


@pytest.mark.django_db
def test_scoring_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_history()
    model = predictive.train_model(now=NOW)
    assert model is not None
    # 122 open contacts in chunks of 50: three chunks of (contacts, events, touches, upsert).
    monkeypatch.setattr(predictive, "CHUNK", 50)
    with django_assert_max_num_queries(4 * 4 + 8):
        assert predictive.score_probabilities(model=model, now=NOW) == 122


@pytest.mark.django_db
@pytest.mark.parametrize("micro", [0, 999_999, 250_000])
def test_the_engagement_window_ends_exactly_60_days_after_creation(micro: int) -> None:
    created = OLD.replace(microsecond=micro)
    contact = Contact.objects.create(email="edge@example.com", created_at=created)
    end = created + timedelta(days=predictive.ENGAGEMENT_DAYS)
    moments = {
        "before creation": created - timedelta(days=5),  # stitched earlier visits count
        "last microsecond": end - timedelta(microseconds=1),
        "at the end": end,  # excluded: the window is [.., created + 60 days)
        "after": end + timedelta(seconds=1),
    }
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            type="form_submit", occurred_at=at, contact=contact, idempotency_key=f"edge:{name}"
        )
        for name, at in moments.items()
    )
    loaded = predictive.load_training_data(now=NOW)
    assert loaded.rows[loaded.ids.index(contact.pk)]["form_submits"] == 2
    # Scoring truncates at now as well: only what had happened by then counts.
    early = predictive._engagement(ids=[contact.pk], now=created, by_range=False)
    assert early == {contact.pk: {"form_submits": 1}}
