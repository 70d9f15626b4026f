"""The deal board in a real browser: a rep drags a deal to the next stage and sees the forecast
strip's weighted figure follow; the same moves from the keyboard, including a loss with its reason.

Screenshots land in test-artifacts/screenshots/ (sales-*.png) for a human to look at.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tandem.sales.models import Deal
from tandem.sales.periods import period_containing
from tests.conftest import World
from tests.sales.factories import DealFactory, stage
from tests.web.test_browser import page, shot, sign_in  # noqa: F401  (the Chromium page fixture)

# The world fixture re-seeds the pipelines a previous transactional test's flush removed.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _this_quarter_day() -> date:
    """A day inside the current quarter (its last day), so the deal counts in the strip."""
    return period_containing(timezone.now().date(), kind="quarter").end


def _board_deals(world: World) -> Deal:
    DealFactory(
        name="Globex renewal talk",
        owner=world.rep1,
        company=world.globex,
        amount=Decimal("4000.00"),
        stage=stage("Demo"),
        expected_close_date=_this_quarter_day(),
    )
    DealFactory(name="Initech pilot", owner=world.rep1, amount=Decimal("2500.00"))
    return DealFactory(
        name="Acme platform",
        owner=world.rep1,
        company=world.acme,
        amount=Decimal("10000.00"),
        expected_close_date=_this_quarter_day(),
    )


def _weighted(tab: Any) -> float:
    return float(tab.locator("#forecast-strip").get_attribute("data-weighted"))


def test_drag_a_deal_to_the_next_stage_and_the_forecast_follows(
    world: World,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # Given rep1's Acme deal (10,000, closing this quarter) in Discovery (10 %) and another
    # deal in Demo (4,000 at 25 %)
    deal = _board_deals(world)
    sign_in(page, live_server.url, "rep1", "pw-rep1-123")
    page.goto(f"{live_server.url}/sales/board/")
    discovery = page.locator('.board-col[data-stage-name="Discovery"]')
    demo = page.locator('.board-col[data-stage-name="Demo"]')
    card = page.locator(f"#deal-{deal.pk}")
    expect(discovery.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(page.locator("#forecast-strip")).to_be_visible()
    # weighted = 10,000 x 10 % + 4,000 x 25 %
    assert _weighted(page) == 2000.0
    expect(demo.locator(".count")).to_have_text("1")
    shot(page, "sales-board")

    # When the rep drags the card onto the Demo column
    card.drag_to(demo)

    # Then the card sits in Demo, the column counts it, and the strip's weighted figure grows
    expect(demo.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(demo.locator(".count")).to_have_text("2")
    expect(page.locator("#forecast-strip")).to_have_attribute(
        "data-weighted", _attribute_like(3500)
    )
    assert _weighted(page) == 3500.0  # 10,000 x 25 % + 4,000 x 25 %
    shot(page, "sales-board-dragged")

    # And after a reload the move has stuck
    page.reload()
    expect(
        page.locator('.board-col[data-stage-name="Demo"]').locator(f"#deal-{deal.pk}")
    ).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage.name == "Demo"

    # And the deal page shows the stage path with Demo current
    page.get_by_role("link", name="Acme platform").click()
    expect(page.get_by_role("heading", name="Acme platform")).to_be_visible()
    expect(page.locator('.stage-path li[aria-current="step"]')).to_contain_text("Demo")
    expect(page.locator("#deal-timeline")).to_contain_text("Moved from Discovery to Demo")
    shot(page, "sales-deal")


def _attribute_like(value: int) -> Any:
    import re

    return re.compile(rf"^{value}(\.0+)?$")


def test_move_a_deal_with_the_keyboard_and_lose_one_with_a_reason(
    world: World,
    live_server: Any,
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    deal = _board_deals(world)
    sign_in(page, live_server.url, "rep1", "pw-rep1-123")
    page.goto(f"{live_server.url}/sales/board/")
    # When the rep tabs to the card's "Move to" select, picks Proposal with the arrow keys
    # and presses Enter on Move
    select = page.get_by_label("Move Acme platform to")
    select.focus()
    select.select_option(label="Proposal")
    page.keyboard.press("Tab")
    move = page.locator(f"#deal-{deal.pk}").get_by_role("button", name="Move")
    expect(move).to_be_focused()
    page.keyboard.press("Enter")
    # Then the card is in Proposal
    proposal = page.locator('.board-col[data-stage-name="Proposal"]')
    expect(proposal.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(proposal.locator(".count")).to_have_text("1")
    shot(page, "sales-board-keyboard")

    # When the rep moves it to Closed Lost the same way, the close form asks for the reason
    page.get_by_label("Move Acme platform to").select_option(label="Closed Lost")
    page.locator(f"#deal-{deal.pk}").get_by_role("button", name="Move").press("Enter")
    expect(page.get_by_role("heading", name="Close deal")).to_be_visible()
    expect(page.get_by_label("Lost", exact=True)).to_be_checked()
    page.get_by_label("Lost reason").select_option(index=1)
    page.get_by_label("Lost to competitor").fill("Initrode")
    shot(page, "sales-close-lost")
    page.get_by_role("button", name="Close deal").click()
    # Then the rep is back on the board with the deal among the lost
    lost = page.locator('.board-col[data-stage-name="Closed Lost"]')
    expect(lost.locator(f"#deal-{deal.pk}")).to_be_visible()
    saved = Deal.objects.get(pk=deal.pk)
    assert (saved.status, saved.competitor) == ("lost", "Initrode")
    assert saved.lost_reason is not None
    shot(page, "sales-board-lost")

    # And the list shows it with its stage, filtered to lost deals
    page.goto(f"{live_server.url}/sales/deals/?status=lost")
    expect(page.locator("#deals-table tbody tr")).to_have_count(1)
    expect(page.locator("#deals-table")).to_contain_text("Closed Lost")
    shot(page, "sales-deal-list")
