"""Pipeline services and pages: create, edit and reorder stages; only managers change them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tandem.errors import Conflict, Forbidden, InvalidInput
from tandem.sales.models import Pipeline, Stage
from tandem.sales.services import pipelines as svc
from tests.conftest import World
from tests.sales.factories import DealFactory, default_pipeline, stage

STAGES = [
    {"name": "Qualify", "probability": 20, "forecast_category": "pipeline", "outcome": "open"},
    {"name": "Commit", "probability": 80, "forecast_category": "commit", "outcome": "open"},
    {"name": "Won", "probability": 100, "forecast_category": "closed", "outcome": "won"},
    {"name": "Lost", "probability": 0, "forecast_category": "omitted", "outcome": "lost"},
]


def names(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position").values_list("name", flat=True))


# ---------------------------------------------------------------- services


def test_the_default_pipeline_is_the_seeded_new_business(db: Any) -> None:
    pipeline = svc.default_pipeline()
    assert (pipeline.name, svc.first_open_stage(pipeline).name) == ("New business", "Discovery")
    assert (svc.won_stage(pipeline).name, svc.lost_stage(pipeline).name) == (
        "Closed Won",
        "Closed Lost",
    )


def test_a_manager_creates_a_pipeline_with_ordered_stages(world: World) -> None:
    pipeline = svc.create_pipeline(name="Partners", stages=STAGES, by=world.manager)
    assert (pipeline.is_default, pipeline.position) == (False, 2)
    rows = list(
        pipeline.stages.order_by("position").values_list(
            "position", "name", "probability", "forecast_category", "outcome"
        )
    )
    assert rows == [
        (0, "Qualify", 20, "pipeline", "open"),
        (1, "Commit", 80, "commit", "open"),
        (2, "Won", 100, "closed", "won"),
        (3, "Lost", 0, "omitted", "lost"),
    ]


@pytest.mark.parametrize(
    ("stages", "field", "message"),
    [
        ([], "stages", "a pipeline needs stages"),
        (STAGES[:2] + STAGES[3:], "outcome", "exactly one won stage (it would have 0)"),
        (
            [*STAGES, {**STAGES[2], "name": "Won again"}],
            "outcome",
            "exactly one won stage (it would have 2)",
        ),
        (STAGES[:3], "outcome", "at least one lost stage"),
        (STAGES[2:], "outcome", "at least one open stage"),
        ([{**STAGES[0], "probability": 101}, *STAGES[1:]], "probability", "between 0 and 100"),
        (
            [{**STAGES[0], "forecast_category": "maybe"}, *STAGES[1:]],
            "forecast_category",
            "is not one of",
        ),
        ([{**STAGES[0], "name": ""}, *STAGES[1:]], "name", "name is required"),
        ([{**STAGES[0], "name": "commit"}, *STAGES[1:]], "stages", "stage names must differ"),
    ],
)
def test_bad_pipelines_are_refused_naming_the_field(
    world: World, stages: list, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as err:
        svc.create_pipeline(name="Bad", stages=stages, by=world.admin)
    assert err.value.field == field
    assert not Pipeline.objects.filter(name="Bad").exists()


def test_pipeline_names_are_unique_and_reps_may_not_create(world: World) -> None:
    with pytest.raises(Conflict, match="a pipeline named New business exists"):
        svc.create_pipeline(name="new business", stages=STAGES, by=world.admin)
    for user in (world.rep1, world.marketer):
        with pytest.raises(Forbidden):
            svc.create_pipeline(name="Mine", stages=STAGES, by=user)


def test_update_stage_changes_probability_and_category(world: World) -> None:
    demo = svc.update_stage(
        stage=stage("Demo"),
        changes={"probability": "30", "forecast_category": "best_case"},
        by=world.manager,
    )
    assert Stage.objects.values_list("probability", "forecast_category").get(pk=demo.pk) == (
        30,
        "best_case",
    )
    with pytest.raises(Forbidden):
        svc.update_stage(stage=stage("Demo"), changes={"probability": 5}, by=world.rep1)


def test_a_pipeline_keeps_one_won_and_a_lost_stage(world: World) -> None:
    with pytest.raises(InvalidInput, match="exactly one won stage"):
        svc.update_stage(stage=stage("Closed Won"), changes={"outcome": "open"}, by=world.admin)
    with pytest.raises(InvalidInput, match="at least one lost stage"):
        svc.update_stage(stage=stage("Closed Lost"), changes={"outcome": "open"}, by=world.admin)
    with pytest.raises(InvalidInput, match="exactly one won stage"):
        svc.update_stage(stage=stage("Negotiation"), changes={"outcome": "won"}, by=world.admin)


def test_a_stage_with_deals_keeps_its_outcome(world: World) -> None:
    DealFactory(owner=world.rep1, stage=stage("Proposal"))
    with pytest.raises(InvalidInput, match="stage Proposal has deals"):
        svc.update_stage(stage=stage("Proposal"), changes={"outcome": "lost"}, by=world.admin)


def test_renaming_a_stage_to_a_taken_name_is_a_conflict(world: World) -> None:
    with pytest.raises(Conflict, match="has a stage named Demo"):
        svc.update_stage(stage=stage("Proposal"), changes={"name": "demo"}, by=world.admin)


def test_reorder_needs_every_stage_once(world: World) -> None:
    pipeline = default_pipeline()
    ids = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    svc.reorder_stages(pipeline=pipeline, stage_ids=[ids[1], ids[0], *ids[2:]], by=world.manager)
    assert names(pipeline)[:2] == ["Demo", "Discovery"]
    with pytest.raises(InvalidInput, match="exactly once") as err:
        svc.reorder_stages(pipeline=pipeline, stage_ids=ids[:-1], by=world.manager)
    assert err.value.field == "stage_ids"
    with pytest.raises(InvalidInput, match="exactly once"):
        svc.reorder_stages(pipeline=pipeline, stage_ids=[*ids[:-1], ids[0]], by=world.manager)


def test_add_stage_puts_an_open_stage_after_the_open_ones(world: World) -> None:
    pipeline = default_pipeline()
    svc.add_stage(
        pipeline=pipeline,
        values={"name": "Legal review", "probability": 85, "forecast_category": "commit"},
        by=world.manager,
    )
    assert names(pipeline) == [
        "Discovery",
        "Demo",
        "Proposal",
        "Negotiation",
        "Legal review",
        "Closed Won",
        "Closed Lost",
    ]
    with pytest.raises(InvalidInput, match="exactly one won stage"):
        svc.add_stage(
            pipeline=pipeline,
            values={
                "name": "Won 2",
                "probability": 100,
                "forecast_category": "closed",
                "outcome": "won",
            },
            by=world.manager,
        )


# ---------------------------------------------------------------- pages


def test_everyone_reads_the_pipelines_page(client_as: Any, world: World) -> None:
    for who in ("rep1", "marketing", "manager"):
        response = client_as(who).get(reverse("web:pipelines"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "New business" in html and "Renewals and upsells" in html
        assert ("Create pipeline" in html) == (who == "manager")


def test_the_pipelines_page_counts_open_deals_per_stage_in_few_queries(
    client_as: Any, world: World, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        DealFactory(owner=world.rep1, stage=stage("Demo"))
    client = client_as("manager")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("web:pipelines"))
    stages = response.context["pipelines"][0].stage_rows
    assert [(s.name, s.open_deals) for s in stages][:2] == [("Discovery", 0), ("Demo", 5)]


def test_signed_out_visitors_go_to_the_login(db: Any, client: Any) -> None:
    response = client.get(reverse("web:pipelines"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_manager_creates_a_pipeline_from_the_page(client_as: Any, world: World) -> None:
    post = {
        "name": "Channel",
        "stage_name": ["Intro", "Won", "Lost", ""],
        "stage_probability": ["10", "100", "0", ""],
        "stage_category": ["pipeline", "closed", "omitted", "pipeline"],
        "stage_outcome": ["open", "won", "lost", "open"],
    }
    response = client_as("manager").post(reverse("web:pipelines"), post)
    pipeline = Pipeline.objects.get(name="Channel")
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:pipeline", args=[pipeline.pk]
    )
    assert names(pipeline) == ["Intro", "Won", "Lost"]


def test_a_bad_new_pipeline_shows_the_error_and_keeps_the_rows(
    client_as: Any, world: World
) -> None:
    post = {
        "name": "Channel",
        "stage_name": ["Intro", "Lost"],
        "stage_probability": ["10", "0"],
        "stage_category": ["pipeline", "omitted"],
        "stage_outcome": ["open", "lost"],
    }
    response = client_as("manager").post(reverse("web:pipelines"), post)
    assert response.status_code == 422
    html = response.content.decode()
    assert "pipeline Channel must have exactly one won stage (it would have 0)" in html
    assert 'value="Intro"' in html


def test_reps_and_marketing_may_not_change_pipelines(client_as: Any, world: World) -> None:
    demo = stage("Demo")
    url = reverse("web:pipeline", args=[demo.pipeline_id])
    for who in ("rep1", "marketing"):
        client = client_as(who)
        assert client.get(url).status_code == 200
        assert "Add a stage" not in client.get(url).content.decode()
        assert client.post(reverse("web:pipelines"), {"name": "X"}).status_code == 403
        response = client.post(
            url,
            {
                "action": "update_stage",
                "stage": demo.pk,
                "stage_name": "Hacked",
                "stage_probability": "1",
                "stage_category": "pipeline",
                "stage_outcome": "open",
            },
        )
        assert response.status_code == 403
    assert Stage.objects.get(pk=demo.pk).name == "Demo"


def test_a_manager_edits_a_stage_with_htmx(client_as: Any, world: World) -> None:
    demo = stage("Demo")
    response = client_as("manager").post(
        reverse("web:pipeline", args=[demo.pipeline_id]),
        {
            "action": "update_stage",
            "stage": demo.pk,
            "stage_name": "Live demo",
            "stage_probability": "35",
            "stage_category": "best_case",
            "stage_outcome": "open",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="pipeline-stages"') and "Saved the stage Live demo." in html
    assert Stage.objects.values_list("name", "probability", "forecast_category").get(
        pk=demo.pk
    ) == (
        "Live demo",
        35,
        "best_case",
    )


def test_a_refused_stage_edit_answers_422_with_the_reason(client_as: Any, world: World) -> None:
    won = stage("Closed Won")
    response = client_as("manager").post(
        reverse("web:pipeline", args=[won.pipeline_id]),
        {
            "action": "update_stage",
            "stage": won.pk,
            "stage_name": "Closed Won",
            "stage_probability": "100",
            "stage_category": "closed",
            "stage_outcome": "open",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "must have exactly one won stage" in response.content.decode()


def test_moving_adding_and_renaming_from_the_page(client_as: Any, world: World) -> None:
    pipeline = default_pipeline()
    client = client_as("admin")
    url = reverse("web:pipeline", args=[pipeline.pk])
    assert (
        client.post(url, {"action": "move_down", "stage": stage("Discovery").pk}).status_code == 302
    )
    assert names(pipeline)[:2] == ["Demo", "Discovery"]
    client.post(url, {"action": "move_up", "stage": stage("Demo").pk})  # already first: nothing
    assert names(pipeline)[:2] == ["Demo", "Discovery"]
    client.post(
        url,
        {
            "action": "add_stage",
            "stage_name": "Pilot",
            "stage_probability": "60",
            "stage_category": "best_case",
            "stage_outcome": "open",
        },
    )
    assert names(pipeline)[4] == "Pilot"
    client.post(url, {"action": "rename", "name": "New logos", "is_active": "on"})
    assert Pipeline.objects.get(pk=pipeline.pk).name == "New logos"
    bad = client.post(url, {"action": "move_up", "stage": "999999"})
    assert bad.status_code == 422 and "choose a stage of this pipeline" in bad.content.decode()
    assert client.get(reverse("web:pipeline", args=[999999])).status_code == 404
