"""Segment pages: roles, the builder (rows and JSON), live count, detail, CSV export, escaping."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.leads.models import Segment, SegmentMembership
from tandem.leads.services.segments import add_members, create_segment
from tandem.leads.views.segments import definition_from_rows, rows_from_definition
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.leads.factories import SegmentFactory

XSS = "<script>alert(1)</script>"
ANN = {"field": "first_name", "op": "eq", "value": "ann"}


def _rows(**extra: Any) -> dict[str, Any]:
    """A builder post with one field row and one behaviour row."""
    return {
        "name": "Engaged Acme",
        "description": "",
        "kind": "dynamic",
        "mode": "rows",
        "match": "all",
        "cond_negate": [""],
        "cond_field": ["company.domain"],
        "cond_op": ["eq"],
        "cond_value": ["acme.com"],
        "beh_negate": ["not"],
        "beh_kind": ["event"],
        "beh_target": ["page_view"],
        "beh_property": ["plan"],
        "beh_prop_op": ["eq"],
        "beh_prop_value": ["pro"],
        "beh_min_count": ["2"],
        "beh_within_days": ["30"],
        **extra,
    }


def test_anonymous_users_are_sent_to_sign_in(db: Any) -> None:
    for url in ("/leads/segments/", "/leads/segments/1/", "/leads/segments/new/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login")


def test_everyone_sees_the_list_only_marketing_gets_the_builder(
    client_as: Any, world: World
) -> None:
    SegmentFactory(name="Leads", member_count=12)
    for name in ("rep1", "manager", "marketing"):
        page = client_as(name).get("/leads/segments/")
        assert page.status_code == 200
        assert "Leads" in page.content.decode()
        assert ("New segment" in page.content.decode()) is (name == "marketing")
    assert client_as("rep1").get("/leads/segments/new/").status_code == 403
    assert client_as("rep1").post("/leads/segments/new/", _rows()).status_code == 403
    assert client_as("marketing").get("/leads/segments/new/").status_code == 200


def test_the_builder_saves_rows_as_a_definition(client_as: Any, world: World) -> None:
    response = client_as("marketing").post("/leads/segments/new/", _rows())
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.definition == {
        "all": [
            {"field": "company.domain", "op": "eq", "value": "acme.com"},
            {
                "not": {
                    "event": "page_view",
                    "where": [{"property": "plan", "op": "eq", "value": "pro"}],
                    "min_count": 2,
                    "within_days": 30,
                }
            },
        ]
    }
    assert segment.member_count == 2
    assert response["Location"] == f"/leads/segments/{segment.pk}/"


def test_builder_errors_name_the_problem_and_keep_the_rows(client_as: Any, world: World) -> None:
    post = _rows(cond_field=["score"], cond_op=["gt"], cond_value=["lots"])
    response = client_as("marketing").post("/leads/segments/new/", post)
    assert response.status_code == 422
    body = response.content.decode()
    assert "all[0].value: &quot;lots&quot; is not a whole number" in body
    assert 'value="lots"' in body
    assert not Segment.objects.exists()


def test_builder_row_buttons_and_json_mode(client_as: Any, world: World) -> None:
    client = client_as("marketing")
    added = client.post("/leads/segments/new/", _rows(action="add_behaviour"))
    assert added.content.decode().count('name="beh_kind"') == 2
    removed = client.post("/leads/segments/new/", _rows(action="remove_field:1"))
    assert 'name="cond_field"' not in removed.content.decode()
    as_json = client.post("/leads/segments/new/", _rows(action="to_json"))
    assert "&quot;company.domain&quot;" in as_json.content.decode()
    nested = {"any": [{"all": [ANN]}, {"not": {"not": ANN}}]}
    import json

    saved = client.post(
        "/leads/segments/new/",
        {
            "name": "Nested",
            "kind": "dynamic",
            "mode": "json",
            "definition_json": json.dumps(nested),
        },
    )
    assert saved.status_code == 302
    segment = Segment.objects.get(name="Nested")
    assert segment.definition == nested
    edit = client.get(f"/leads/segments/{segment.pk}/edit/")
    assert 'name="definition_json"' in edit.content.decode()
    assert 'name="cond_field"' not in edit.content.decode()  # nested: JSON mode
    bad = client.post(
        f"/leads/segments/{segment.pk}/edit/",
        {"name": "Nested", "mode": "json", "definition_json": "{oops"},
    )
    assert bad.status_code == 422
    assert "definition: is not valid JSON" in bad.content.decode()


def test_rows_round_trip_through_definitions() -> None:
    definition = {
        "any": [
            {"field": "company.employees", "op": "between", "value": [10, 50]},
            {"not": {"field": "owner", "op": "in", "value": ["rep1", None]}},
            {"touched": {"channel": "email"}, "within_days": 7},
            {"submitted_form": None, "within_days": None},
            {"viewed_content": 4, "within_days": 30},
            {
                "event": "custom:demo",
                "where": [{"property": "n", "op": "eq", "value": "5"}],
                "min_count": 3,
                "within_days": None,
            },
        ]
    }
    shown = rows_from_definition(definition)
    assert shown is not None
    match, field_rows, behaviour_rows = shown
    rebuilt = definition_from_rows(match, field_rows, behaviour_rows)
    from tandem.leads.segments import validate_definition

    assert validate_definition(rebuilt) == validate_definition(
        {"any": [*definition["any"][:2], *definition["any"][2:]]}
    )


def test_live_count_posts_the_builder(client_as: Any, world: World) -> None:
    client = client_as("rep1")
    response = client.post("/leads/segments/count/", _rows(beh_kind=[""]))
    # rep1 sees ann (acme, own) but not bob (acme, rep2's).
    assert "<strong>1</strong> contact you can see match now." in response.content.decode()
    bad = client.post("/leads/segments/count/", _rows(cond_field=[XSS]))
    assert XSS not in bad.content.decode()
    assert "&lt;script&gt;" in bad.content.decode()
    empty = client.post("/leads/segments/count/", {"mode": "rows"})
    assert "Add a condition" in empty.content.decode()


def test_detail_shows_members_the_user_may_see_and_history(client_as: Any, world: World) -> None:
    segment = create_segment(
        name=XSS,
        kind="dynamic",
        definition={"field": "email", "op": "contains", "value": "@"},
        description=XSS,
        by=world.marketer,
    )
    rep = client_as("rep1").get(f"/leads/segments/{segment.pk}/")
    body = rep.content.decode()
    assert rep.status_code == 200
    assert XSS not in body
    assert "ann@acme.com" in body and "dee@initech.com" in body
    assert "bob@acme.com" not in body
    assert "2 members you can see" in body
    assert "Edit segment" not in body
    marketing = client_as("marketing").get(f"/leads/segments/{segment.pk}/").content.decode()
    assert "5 members you can see" in marketing
    assert "Edit segment" in marketing


def test_detail_query_count_does_not_grow_with_members(client_as: Any, world: World) -> None:
    segment = create_segment(
        name="All", kind="dynamic", definition={"field": "score", "op": "gte", "value": 0}, by=None
    )
    client = client_as("marketing")
    client.get(f"/leads/segments/{segment.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/leads/segments/{segment.pk}/")
    for _ in range(20):
        ContactFactory()
    from tandem.leads.services.segments import refresh_segment

    refresh_segment(segment=segment)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/leads/segments/{segment.pk}/")
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as listing:
        client.get("/leads/segments/")
    assert len(listing) <= 8


def test_export_is_formula_safe_and_permission_scoped(client_as: Any, world: World) -> None:
    ContactFactory(
        email="formula@x.com", first_name="=HYPERLINK(1)", owner=world.rep1, team=world.east
    )
    segment = create_segment(
        name="All", kind="dynamic", definition={"field": "score", "op": "gte", "value": 0}, by=None
    )
    response = client_as("rep1").get(f"/leads/segments/{segment.pk}/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "email", "first_name"]
    emails = sorted(r[1] for r in rows[1:])
    assert emails == ["ann@acme.com", "dee@initech.com", "formula@x.com"]
    assert [r[2] for r in rows[1:] if r[1] == "formula@x.com"] == ["'=HYPERLINK(1)"]


def test_static_list_pages_add_and_remove(client_as: Any, world: World) -> None:
    segment = create_segment(name="VIP", kind="static", by=world.marketer)
    client = client_as("marketing")
    client.post(
        f"/leads/segments/{segment.pk}/members/add/",
        {"emails": "ANN@acme.com, cy@globex.com\nnobody@nowhere.com"},
    )
    assert set(
        SegmentMembership.objects.filter(segment=segment, left_at__isnull=True).values_list(
            "contact_id", flat=True
        )
    ) == {world.rep1_contact.pk, world.rep3_contact.pk}
    client.post(
        f"/leads/segments/{segment.pk}/members/remove/", {"contact_id": world.rep3_contact.pk}
    )
    segment.refresh_from_db()
    assert segment.member_count == 1
    assert (
        client_as("rep1")
        .post(f"/leads/segments/{segment.pk}/members/add/", {"emails": "bob@acme.com"})
        .status_code
        == 403
    )
    add_members(segment=segment, contact_ids=[world.rep2_contact.pk], by=None)
    page = client.get(f"/leads/segments/{segment.pk}/").content.decode()
    assert "Remove" in page


def test_delete_and_refresh_buttons(client_as: Any, world: World) -> None:
    segment = SegmentFactory(definition=ANN)
    client = client_as("marketing")
    client.post(f"/leads/segments/{segment.pk}/refresh/")
    segment.refresh_from_db()
    assert segment.member_count == 1
    assert client_as("rep1").post(f"/leads/segments/{segment.pk}/delete/").status_code == 403
    response = client.post(f"/leads/segments/{segment.pk}/delete/")
    assert response.status_code == 302
    assert not Segment.objects.exists()


def test_choosing_a_field_rerenders_its_operators(client_as: Any, world: World) -> None:
    post = _rows(action="rerender", cond_field=["score"], cond_op=["contains"], cond_value=[""])
    response = client_as("marketing").post("/leads/segments/new/", post)
    assert response.status_code == 200
    body = response.content.decode()
    row = body[body.index('id="cond-op-1"') :].split("</select>")[0]
    assert 'value="between"' in row
    assert 'value="contains"' not in row
    assert not Segment.objects.exists()
