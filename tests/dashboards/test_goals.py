"""Joint goals: the set_goals service (validation, upsert, delete) and the goals form page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tandem.dashboards.models import JointGoal
from tandem.dashboards.services import set_goals
from tandem.errors import Forbidden, InvalidInput
from tests.conftest import World

pytestmark = pytest.mark.django_db


def stored(period: str) -> dict[str, Decimal]:
    return dict(JointGoal.objects.filter(period=period).values_list("metric", "target"))


SIX = {
    "revenue": Decimal("250000"),
    "pipeline_created": Decimal("900000"),
    "mqls": Decimal("400"),
    "mql_to_sql_rate": Decimal("0.25"),
    "win_rate": Decimal("0.3"),
    "velocity": Decimal("1234.5"),
}


# ---------------------------------------------------------------- service


def test_set_goals_stores_each_target_and_who_set_it(world: World) -> None:
    # When marketing sets the six goals of a quarter
    goals = set_goals(period="2026-q4", targets=SIX, by=world.marketer)
    # Then each is stored once under the canonical period key, to four places
    assert stored("2026-Q4") == {
        "revenue": Decimal("250000.0000"),
        "pipeline_created": Decimal("900000.0000"),
        "mqls": Decimal("400.0000"),
        "mql_to_sql_rate": Decimal("0.2500"),
        "win_rate": Decimal("0.3000"),
        "velocity": Decimal("1234.5000"),
    }
    assert set(goals) == set(SIX)
    assert {g.set_by_id for g in JointGoal.objects.all()} == {world.marketer.pk}


def test_set_goals_replaces_and_none_deletes(world: World) -> None:
    set_goals(period="2026-11", targets=SIX, by=world.admin)
    # When the manager changes revenue, removes MQLs and leaves the rest out
    goals = set_goals(
        period="2026-11", targets={"revenue": Decimal("300000"), "mqls": None}, by=world.manager
    )
    # Then revenue is replaced (now set by the manager), MQLs gone, the others kept
    now = stored("2026-11")
    assert now["revenue"] == Decimal("300000.0000")
    assert "mqls" not in now and len(now) == 5
    assert JointGoal.objects.get(period="2026-11", metric="revenue").set_by == world.manager
    assert JointGoal.objects.get(period="2026-11", metric="win_rate").set_by == world.admin
    assert set(goals) == set(now)


@pytest.mark.parametrize(
    ("targets", "field", "words"),
    [
        ({"revenue": Decimal("-1")}, "revenue", "must not be negative"),
        ({"win_rate": Decimal("1.2")}, "win_rate", "fraction between 0 and 1"),
        ({"mql_to_sql_rate": Decimal("-0.1")}, "mql_to_sql_rate", "must not be negative"),
        ({"velocity": Decimal("NaN")}, "velocity", "finite"),
        ({"mqls": Decimal("1e13")}, "mqls", "at most"),
        ({"mqls": "lots"}, "mqls", "is not a number"),
        ({"bookings": Decimal(1)}, "bookings", "unknown goal metric"),
    ],
)
def test_bad_targets_are_refused_naming_the_field_and_nothing_changes(
    world: World, targets: dict[str, Any], field: str, words: str
) -> None:
    set_goals(period="2026-Q4", targets={"revenue": Decimal(5)}, by=world.admin)
    with pytest.raises(InvalidInput) as problem:
        # a valid pipeline target beside the bad one is not written either (one transaction)
        set_goals(
            period="2026-Q4", targets={"pipeline_created": Decimal(7), **targets}, by=world.admin
        )
    assert problem.value.field == field
    assert words in str(problem.value)
    assert stored("2026-Q4") == {"revenue": Decimal("5.0000")}


def test_a_bad_period_is_refused_naming_the_format(world: World) -> None:
    with pytest.raises(InvalidInput) as problem:
        set_goals(period="Q4 2026", targets=SIX, by=world.admin)
    assert problem.value.field == "period"
    assert "2026-Q4" in str(problem.value)


@pytest.mark.parametrize("name", ["rep1", "rep3"])
def test_reps_may_not_set_goals(world: World, name: str) -> None:
    with pytest.raises(Forbidden):
        set_goals(period="2026-Q4", targets=SIX, by=world.users()[name])
    assert not JointGoal.objects.exists()


# ---------------------------------------------------------------- the form page


@pytest.mark.parametrize("name", ["rep1", "rep2", "rep3"])
def test_reps_get_403_on_the_goals_form(world: World, client_as: Any, name: str) -> None:
    client = client_as(name)
    assert client.get("/dashboards/goals/").status_code == 403
    response = client.post("/dashboards/goals/", {"period": "2026-Q4", "revenue": "10"})
    assert response.status_code == 403
    assert not JointGoal.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    from django.test import Client

    response = Client().get("/dashboards/goals/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", ["admin", "marketing", "manager"])
def test_goal_setters_see_the_form_with_stored_values(
    world: World, client_as: Any, name: str
) -> None:
    set_goals(period="2026-Q3", targets=SIX, by=world.admin)
    response = client_as(name).get("/dashboards/goals/?period=2026-Q3")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Joint goals · Q3 2026" in html
    # rates are shown in percent, money without trailing zeros
    assert 'name="mql_to_sql_rate" value="25"' in html
    assert 'name="win_rate" value="30"' in html
    assert 'name="revenue" value="250000"' in html
    assert 'name="velocity" value="1234.5"' in html
    assert 'name="period" value="2026-Q3"' in html


def test_saving_the_form_stores_rates_as_fractions_and_empty_deletes(
    world: World, client_as: Any
) -> None:
    set_goals(period="2026-Q4", targets={"velocity": Decimal(10)}, by=world.admin)
    response = client_as("manager").post(
        "/dashboards/goals/",
        {
            "period": "2026-Q4",
            "revenue": "250000",
            "pipeline_created": "",
            "mqls": "400",
            "mql_to_sql_rate": "25",
            "win_rate": "32.5",
            "velocity": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboards/?period=2026-Q4"
    assert stored("2026-Q4") == {
        "revenue": Decimal("250000.0000"),
        "mqls": Decimal("400.0000"),
        "mql_to_sql_rate": Decimal("0.2500"),
        "win_rate": Decimal("0.3250"),
    }


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("revenue", "-5", "greater than or equal to 0"),
        ("win_rate", "120", "less than or equal to 100"),
        ("mqls", "many", "Enter a number"),
    ],
)
def test_a_bad_field_re_renders_the_form_with_its_error(
    world: World, client_as: Any, field: str, value: str, words: str
) -> None:
    response = client_as("admin").post(
        "/dashboards/goals/", {"period": "2026-Q4", "revenue": "1", field: value}
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert words in form.errors[field][0]
    assert not JointGoal.objects.exists()


def test_a_bad_period_on_save_is_shown(world: World, client_as: Any) -> None:
    response = client_as("admin").post("/dashboards/goals/", {"period": "2026-Q9", "revenue": "1"})
    assert response.status_code == 422
    assert "write a month as 2026-11 or a quarter as 2026-Q4" in response.content.decode()
    assert not JointGoal.objects.exists()


# ---------------------------------------------------------------- the demo's goals


def test_demo_targets_are_rounded_as_people_type_them() -> None:
    from tandem.demo.generators.goals import round_target

    assert round_target("revenue", Decimal("2133264.95")) == Decimal(2135000)
    assert round_target("pipeline_created", Decimal("61234")) == Decimal(61000)
    assert round_target("mqls", Decimal("553.4")) == Decimal(550)
    assert round_target("mqls", Decimal("7.4")) == Decimal(7)
    assert round_target("win_rate", Decimal("0.3468")) == Decimal("0.345")
    assert round_target("velocity", Decimal("58718.05")) == Decimal(58700)
    assert round_target("win_rate", Decimal("1.4")) == Decimal(1)  # a rate stays a rate


def test_demo_targets_sit_near_the_actuals_and_grow() -> None:
    import random

    from tandem.demo.generators.goals import plan_targets

    past: list[dict[str, Decimal | None]] = [
        {
            "revenue": Decimal(100000 + 10000 * i),
            "mqls": Decimal(400),
            "win_rate": Decimal("0.3"),
            "velocity": None,
            "mql_to_sql_rate": Decimal("0.5"),
            "pipeline_created": Decimal(0),
        }
        for i in range(4)
    ]
    past_targets, current, following = plan_targets(random.Random(1), past)
    for actual, targets in zip(past, past_targets, strict=True):
        ratio = Decimal(actual["revenue"] or 0) / targets["revenue"]
        assert Decimal("0.8") < ratio < Decimal("1.2")
        assert "velocity" not in targets  # nothing to aim near
    # the current and next quarter aim at or above the last two quarters' average (125,000)
    assert Decimal(125000) <= current["revenue"] <= Decimal(140000)
    assert Decimal(130000) <= following["revenue"] <= Decimal(145000)
