"""The model page: with and without a model, charts as data, escaping, and who may retrain."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.crm.models import Contact
from tandem.leads.models import LeadScore, PredictiveModel
from tandem.leads.queries import predictive as queries
from tandem.leads.services import predictive
from tandem.leads.views.predictive import distribution_figure, reliability_figure
from tests.conftest import World
from tests.leads.test_predictive_services import build_history
from tests.marketing.factories import PersonaFactory

XSS = "<script>alert(1)</script>"
URL = "/leads/model/"


@pytest.fixture
def trained(world: World) -> PredictiveModel:
    build_history(now=timezone.now())
    model = predictive.train_model()
    assert model is not None
    return model


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_without_a_model_the_page_says_what_is_missing(world: World, client_as: Any) -> None:
    build_history(software=8, retail=8, now=timezone.now())
    response = client_as("rep1").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No model has been trained yet" in html
    assert queries.training_readiness() == {
        "eligible": 16,
        "positives": 8,
        "negatives": 8,
        "min_positives": 50,
        "min_negatives": 50,
        "outcome_age_days": 90,
    }
    assert "50 customers are needed and 8 are known" in html
    assert "more contacts that did not become customers (8 of 50)" in html
    assert "Retrain now" not in html
    assert "plotly.min.js" not in html


def test_marketing_sees_the_retrain_button(world: World, client_as: Any) -> None:
    html = client_as("marketing").get(URL).content.decode()
    assert "Retrain now" in html
    assert "0 are known" in html


def test_with_a_model_the_page_shows_quality_charts_and_factors(
    trained: PredictiveModel, client_as: Any
) -> None:
    client = client_as("rep1")
    with CaptureQueriesContext(connection) as queries_run:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(queries_run) <= 6  # session, user, model, distribution (+ persona names)
    html = response.content.decode()
    assert f"{trained.baseline_auc:.3f}" in html
    assert f"{trained.challenger_auc:.3f}" in html
    chosen = {
        "naive_bayes": "Naive Bayes (baseline)",
        "logistic": "Logistic regression (challenger)",
    }
    assert f"In use: <strong>{chosen[trained.chosen]}</strong>" in html
    assert "/static/plotly/plotly.min.js" in html
    assert html.count('class="plotly-graph-div"') == 2
    # The 120 old non-customers, 2 recent leads and the world's open contacts.
    open_contacts = Contact.objects.exclude(lifecycle_stage__in=predictive.CLOSED_STAGES).count()
    assert open_contacts > 122
    assert f"{open_contacts} open contacts have a probability" in html
    assert "Top factors" in html
    first = trained.factors[0]
    label = {"industry": "Company industry", "page_views": "Page views"}[first["feature"]]
    assert f"<td>{label}</td>" in html
    assert "Retrain now" not in html


def test_factor_values_are_escaped_and_personas_named(
    trained: PredictiveModel, client_as: Any
) -> None:
    persona = PersonaFactory(name="Ops <lead>")
    trained.factors = [
        {"feature": "industry", "value": XSS, "weight": 1.5, "support": 20, "won": 15},
        {"feature": "persona", "value": str(persona.pk), "weight": -0.5, "support": 12, "won": 1},
        {"feature": "region", "value": "", "weight": 0.1, "support": 30, "won": 3},
    ]
    trained.save()
    html = client_as("rep1").get(URL).content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<td>Ops &lt;lead&gt;</td>" in html
    assert "<td>(unknown)</td>" in html
    assert "<td>raises</td>" in html and "<td>lowers</td>" in html


def test_only_marketing_and_admins_may_retrain(world: World, client_as: Any) -> None:
    build_history(now=timezone.now())
    for name in ("rep1", "manager"):
        assert client_as(name).post("/leads/model/retrain/").status_code == 403
    assert PredictiveModel.objects.count() == 0
    assert client_as("marketing").get("/leads/model/retrain/").status_code == 405
    response = client_as("marketing").post("/leads/model/retrain/")
    assert response.status_code == 302
    assert response["Location"] == URL
    # Tests run the queue immediately: the job has trained and stored a current model.
    assert PredictiveModel.objects.filter(is_current=True).count() == 1
    assert client_as("admin").post("/leads/model/retrain/").status_code == 302
    assert PredictiveModel.objects.count() == 2


def test_reliability_figure_plots_only_filled_bins() -> None:
    bins = [
        {
            "lower": b / 10,
            "upper": (b + 1) / 10,
            "count": 0,
            "mean_predicted": None,
            "observed_rate": None,
        }
        for b in range(10)
    ]
    bins[1] = {"lower": 0.1, "upper": 0.2, "count": 5, "mean_predicted": 0.14, "observed_rate": 0.2}
    bins[7] = {
        "lower": 0.7,
        "upper": 0.8,
        "count": 3,
        "mean_predicted": 0.75,
        "observed_rate": 2 / 3,
    }
    figure = reliability_figure(bins)
    diagonal, points = figure.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert list(points.x) == [0.14, 0.75]
    assert list(points.y) == [0.2, 2 / 3]
    assert list(points.customdata) == [5, 3]


@pytest.mark.django_db
def test_probability_distribution_counts_per_tenth() -> None:
    now = timezone.now()
    for i, p in enumerate([0.05, 0.15, 0.19, 0.999, 1.0, None]):
        contact = Contact.objects.create(email=f"d{i}@example.com", created_at=now)
        LeadScore.objects.create(contact=contact, probability=p, computed_at=now)
    distribution = queries.probability_distribution()
    assert [b["count"] for b in distribution] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    figure = distribution_figure(distribution)
    assert list(figure.data[0].y) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert figure.data[0].x[0] == "0%-10%"


def test_plotly_js_is_served_from_the_wheel(db: Any) -> None:
    response = Client().get("/static/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


@pytest.mark.browser
def test_the_charts_draw_in_a_browser(
    world: World, transactional_db: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plotly.js loads from /static/ before the figures' inline scripts, which then draw."""
    import os
    from pathlib import Path

    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("TANDEM_REQUIRE_BROWSER"):
            pytest.fail("TANDEM_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    build_history(now=timezone.now())
    assert predictive.train_model() is not None
    shots = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{live_server.url}/login/")
            page.get_by_label("Username").fill("marketing")
            page.get_by_label("Password").fill("pw-marketing-123")
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{live_server.url}{URL}")
            expect(page.get_by_role("heading", name="Predictive model")).to_be_visible()
            # Each figure, once drawn, holds plotly's SVG.
            expect(page.locator(".plotly-graph-div .main-svg").first).to_be_visible()
            assert page.locator(".plotly-graph-div").count() == 2
            assert page.locator(".plotly-graph-div:has(.main-svg)").count() == 2
            assert errors == []
            page.screenshot(path=str(shots / "leads-model.png"), full_page=True)
        finally:
            browser.close()
