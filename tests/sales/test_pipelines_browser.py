"""A manager edits a pipeline's stages in a real browser (htmx saves, reorders, refusals).

Screenshots land in test-artifacts/screenshots/ (deals-pipeline*.png) for a human to look at.
"""

from __future__ import annotations

from typing import Any

import pytest

from tandem.sales.models import Stage
from tests.conftest import World
from tests.sales.factories import DealFactory, default_pipeline, stage
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

# The world fixture re-seeds the pipelines a previous transactional test's flush removed.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_edits_and_reorders_stages(
    world: World,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given three open deals in Demo
    for _ in range(3):
        DealFactory(owner=world.rep1, stage=stage("Demo"))
    demo, won = stage("Demo"), stage("Closed Won")
    sign_in(page, live_server.url, "manager", "pw-manager-123")
    # When the manager opens the pipelines page
    page.goto(f"{live_server.url}/sales/pipelines/")
    # Then every pipeline lists its stages with their open deals
    demo_row = page.locator(".pipeline-card").first.get_by_role("row").filter(has_text="Demo")
    expect(demo_row).to_contain_text("25%")
    expect(demo_row).to_contain_text("3")
    page.get_by_text("New pipeline").click()
    shot(page, "deals-pipelines")
    # When they raise Demo's probability and move it above Discovery
    page.get_by_role("link", name="Edit stages").first.click()
    page.get_by_label("Probability of stage Demo (percent)").fill("33")
    page.locator(f"#stage-{demo.pk}").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the stage Demo.")).to_be_visible()
    page.get_by_role("button", name="Move Demo up").click()
    expect(page.get_by_text("Moved the stage Demo.")).to_be_visible()
    # Then both stick
    assert list(default_pipeline().stages.order_by("position").values_list("name", flat=True))[
        :2
    ] == [
        "Demo",
        "Discovery",
    ]
    assert Stage.objects.get(pk=demo.pk).probability == 33
    shot(page, "deals-pipeline")
    # When they try to take the pipeline's only won stage away, the page says why not
    page.get_by_label("Outcome of stage Closed Won").select_option("open")
    page.locator(f"#stage-{won.pk}").get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("must have exactly one won stage")
    assert Stage.objects.get(pk=won.pk).outcome == "won"
    shot(page, "deals-pipeline-refused")
