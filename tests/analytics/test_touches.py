"""compute.touches: every attribution model over timed journeys, hand-computed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.compute import touches as t
from tandem.analytics.loaders.journeys import JOURNEY_SCHEMA, TOUCH_SCHEMA

T0 = datetime(2026, 1, 1, 9)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def frames(
    journeys: list[dict[str, Any]], touches: Sequence[tuple[int, float, str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Journeys as dicts (journey_id, ends (day), value, lead, opp, converted); touches (journey, day, key)."""
    j = pl.DataFrame(
        [
            {
                "journey_id": r["id"],
                "converted": r.get("converted", True),
                "ends_at": day(r["ends"]),
                "value": float(r.get("value", 0.0)),
                "lead_at": day(r["lead"]) if r.get("lead") is not None else None,
                "opportunity_at": day(r["opp"]) if r.get("opp") is not None else None,
                "new_business": True,
            }
            for r in journeys
        ],
        schema=JOURNEY_SCHEMA,
    )
    tt = pl.DataFrame(
        [
            {"journey_id": jid, "touch_id": i + 1, "occurred_at": day(d), "key": key}
            for i, (jid, d, key) in enumerate(touches)
        ],
        schema=TOUCH_SCHEMA,
    )
    return j, tt


def credits(
    journeys: pl.DataFrame, touches: pl.DataFrame, model: str, half_life: float = 7.0
) -> dict[str, tuple[float, float]]:
    out = t.attribute_journeys(journeys, touches, models=[model], half_life_days=half_life)
    return {
        r["key"]: (round(r["conversions"], 12), round(r["value"], 9))
        for r in out.iter_rows(named=True)
    }


# One journey: a (day 0), b (day 7, the lead touch), c (day 10), d (day 14, the opportunity
# touch and the conversion), worth 100.
FOUR = frames(
    [{"id": 1, "ends": 14, "value": 100, "lead": 7, "opp": 14}],
    [(1, 0, "a"), (1, 7, "b"), (1, 10, "c"), (1, 14, "d")],
)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"a": 1.0, "b": 0.0, "c": 0.0, "d": 0.0}),
        ("last_touch", {"a": 0.0, "b": 0.0, "c": 0.0, "d": 1.0}),
        ("linear", {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}),
        ("position_based", {"a": 0.4, "b": 0.1, "c": 0.1, "d": 0.4}),
        # first, lead and opportunity touches 30 % each, the one other touch 10 %
        ("w_shaped", {"a": 0.3, "b": 0.3, "c": 0.1, "d": 0.3}),
    ],
)
def test_positional_models_on_a_four_touch_journey(model: str, expected: dict[str, float]) -> None:
    got = credits(*FOUR, model)
    assert got == {k: (v, round(v * 100, 9)) for k, v in expected.items()}


def test_time_decay_halves_a_touch_weight_per_half_life() -> None:
    # 14, 7 and 0 days before the conversion: raw 1/4, 1/2, 1 → normalised 1/7, 2/7, 4/7
    j, tt = frames([{"id": 1, "ends": 14, "value": 70}], [(1, 0, "a"), (1, 7, "b"), (1, 14, "c")])
    got = credits(j, tt, "time_decay")
    assert got == {
        "a": (round(1 / 7, 12), 10.0),
        "b": (round(2 / 7, 12), 20.0),
        "c": (round(4 / 7, 12), 40.0),
    }


def test_time_decay_counts_fractions_of_a_day() -> None:
    # Half-life 12 hours: a touch 12 hours before weighs 1/2, one 36 hours before 1/8.
    j, tt = frames([{"id": 1, "ends": 2, "value": 13}], [(1, 0.5, "a"), (1, 1.5, "b"), (1, 2, "c")])
    got = credits(j, tt, "time_decay", half_life=0.5)
    # raw 1/8, 1/2, 1 → total 13/8
    assert got == {
        "a": (round(1 / 13, 12), 1.0),
        "b": (round(4 / 13, 12), 4.0),
        "c": (round(8 / 13, 12), 8.0),
    }


def test_time_decay_over_two_journeys_adds_per_key() -> None:
    j, tt = frames(
        [{"id": 1, "ends": 7, "value": 30}, {"id": 2, "ends": 21, "value": 10}],
        [(1, 0, "a"), (1, 7, "b"), (2, 21, "a")],
    )
    # journey 1: a 1/3, b 2/3; journey 2: a 1
    assert credits(j, tt, "time_decay") == {
        "a": (round(4 / 3, 12), 20.0),
        "b": (round(2 / 3, 12), 20.0),
    }


def test_position_based_with_one_and_two_touches() -> None:
    j, tt = frames(
        [{"id": 1, "ends": 3, "value": 10}, {"id": 2, "ends": 3, "value": 20}],
        [(1, 1, "a"), (2, 1, "a"), (2, 2, "b")],
    )
    assert credits(j, tt, "position_based") == {"a": (1.5, 20.0), "b": (0.5, 10.0)}


class TestWShaped:
    def test_a_single_touch_gets_everything(self) -> None:
        j, tt = frames([{"id": 1, "ends": 5, "value": 50, "lead": 1, "opp": 5}], [(1, 1, "a")])
        assert credits(j, tt, "w_shaped") == {"a": (1.0, 50.0)}

    def test_coinciding_milestones_add_up_and_without_others_the_shares_are_normalised(
        self,
    ) -> None:
        # a is first and lead touch (60), b the opportunity touch (30); no other touch, so the
        # 10 % is handed out in proportion: a 2/3, b 1/3.
        j, tt = frames(
            [{"id": 1, "ends": 9, "value": 90, "lead": 2, "opp": 9}], [(1, 1, "a"), (1, 5, "b")]
        )
        assert credits(j, tt, "w_shaped") == {
            "a": (round(2 / 3, 12), 60.0),
            "b": (round(1 / 3, 12), 30.0),
        }

    def test_lead_and_opportunity_on_the_same_touch(self) -> None:
        # first a 30, other b 10, c lead + opportunity 60: sums to 100 %
        j, tt = frames(
            [{"id": 1, "ends": 9, "value": 10, "lead": 8, "opp": 9}],
            [(1, 1, "a"), (1, 4, "b"), (1, 8, "c")],
        )
        assert credits(j, tt, "w_shaped") == {"a": (0.3, 3.0), "b": (0.1, 1.0), "c": (0.6, 6.0)}

    def test_a_lead_created_before_every_touch_has_no_lead_touch(self) -> None:
        # No touch at or before the lead time: first 30, other 10, opportunity 30 → /70
        j, tt = frames(
            [{"id": 1, "ends": 9, "value": 70, "lead": -3, "opp": 9}],
            [(1, 1, "a"), (1, 4, "b"), (1, 8, "c")],
        )
        assert credits(j, tt, "w_shaped") == {
            "a": (round(3 / 7, 12), 30.0),
            "b": (round(1 / 7, 12), 10.0),
            "c": (round(3 / 7, 12), 30.0),
        }

    def test_a_missing_lead_time_counts_like_no_lead_touch(self) -> None:
        j, tt = frames(
            [{"id": 1, "ends": 9, "value": 70, "lead": None, "opp": 9}],
            [(1, 1, "a"), (1, 4, "b"), (1, 8, "c")],
        )
        assert credits(j, tt, "w_shaped")["b"] == (round(1 / 7, 12), 10.0)

    def test_the_ten_percent_is_split_over_the_other_touches(self) -> None:
        # a first, c the last touch at or before the lead time (day 4.5), e the last at or
        # before the opportunity (day 9, the deal created before the later touch f, a won deal).
        j, tt = frames(
            [{"id": 1, "ends": 20, "value": 1000, "lead": 4.5, "opp": 9}],
            [(1, 1, "a"), (1, 2, "b"), (1, 4, "c"), (1, 6, "d"), (1, 9, "e"), (1, 15, "f")],
        )
        got = credits(j, tt, "w_shaped")
        assert got == {
            "a": (0.3, 300.0),
            "b": (round(0.1 / 3, 12), round(100 / 3, 9)),
            "c": (0.3, 300.0),
            "d": (round(0.1 / 3, 12), round(100 / 3, 9)),
            "e": (0.3, 300.0),
            "f": (round(0.1 / 3, 12), round(100 / 3, 9)),
        }

    def test_touches_at_the_same_moment_keep_their_id_order(self) -> None:
        # b and c share day 3; the last touch at or before the lead time (day 3) is c (the
        # higher touch id), so c is the lead touch and b the only other touch.
        j, tt = frames(
            [{"id": 1, "ends": 5, "value": 10, "lead": 3, "opp": 5}],
            [(1, 1, "a"), (1, 3, "b"), (1, 3, "c"), (1, 5, "d")],
        )
        assert credits(j, tt, "w_shaped") == {
            "a": (0.3, 3.0),
            "b": (0.1, 1.0),
            "c": (0.3, 3.0),
            "d": (0.3, 3.0),
        }


def test_journeys_aggregate_into_paths_with_conversions_value_and_nulls() -> None:
    j, tt = frames(
        [
            {"id": 1, "ends": 5, "value": 10},
            {"id": 2, "ends": 5, "value": 30},
            {"id": 3, "ends": 5, "converted": False},
            {"id": 4, "ends": 5, "value": 5},
        ],
        [(1, 1, "a"), (1, 2, "b"), (2, 1, "a"), (2, 2, "b"), (3, 1, "a"), (3, 2, "b"), (4, 1, "b")],
    )
    paths = t.journey_paths(t.ordered_touches(j, tt))
    assert paths.to_dicts() == [
        {"channels": ["a", "b"], "conversions": 2.0, "value": 40.0, "nulls": 1.0},
        {"channels": ["b"], "conversions": 1.0, "value": 5.0, "nulls": 0.0},
    ]


def test_shapley_splits_each_conversion_over_its_distinct_channels() -> None:
    j, tt = frames(
        [{"id": 1, "ends": 5, "value": 30}, {"id": 2, "ends": 5, "value": 10}],
        [(1, 1, "a"), (1, 2, "b"), (1, 3, "a"), (2, 1, "b")],
    )
    assert credits(j, tt, "shapley") == {"a": (0.5, 15.0), "b": (1.5, 25.0)}


def test_markov_uses_the_journeys_without_conversion() -> None:
    # Converting: a>b (2), a (1); not converting: b (3). P(conv) from start: the chain has
    # start→a 3/6, start→b 3/6; a→b 2/3, a→conv 1/3; b→conv 2/5, b→null 3/5.
    # P = 1/2·(1/3 + 2/3·2/5) + 1/2·2/5 = 1/2·(3/5) + 1/5 = 1/2.
    # Without a: 1/2·0 + 1/2·2/5 = 1/5 → effect 3/5; without b: 1/2·1/3 = 1/6 → effect 2/3.
    # Credits ∝ effects over 3 conversions: a = 3·(3/5)/(3/5+2/3) = 27/19, b = 30/19.
    j, tt = frames(
        [
            {"id": 1, "ends": 5, "value": 1},
            {"id": 2, "ends": 5, "value": 1},
            {"id": 3, "ends": 5, "value": 1},
            {"id": 4, "ends": 5, "converted": False},
            {"id": 5, "ends": 5, "converted": False},
            {"id": 6, "ends": 5, "converted": False},
        ],
        [
            (1, 1, "a"),
            (1, 2, "b"),
            (2, 1, "a"),
            (2, 2, "b"),
            (3, 1, "a"),
            (4, 1, "b"),
            (5, 1, "b"),
            (6, 1, "b"),
        ],
    )
    got = credits(j, tt, "markov")
    assert got["a"][0] == pytest.approx(27 / 19, abs=1e-9)
    assert got["b"][0] == pytest.approx(30 / 19, abs=1e-9)


def test_conversions_without_touches_are_credited_to_no_touchpoint_in_every_model() -> None:
    j, tt = frames(
        [{"id": 1, "ends": 5, "value": 10}, {"id": 2, "ends": 5, "value": 25}], [(1, 1, "a")]
    )
    out = t.attribute_journeys(j, tt)
    for model in t.MODELS:
        rows = out.filter(pl.col("model") == model)
        assert dict(zip(rows["key"], rows["conversions"], strict=True)) == {
            t.NO_TOUCH: 1.0,
            "a": 1.0,
        }
        assert dict(zip(rows["key"], rows["value"], strict=True)) == {t.NO_TOUCH: 25.0, "a": 10.0}
    assert out["model"].unique(maintain_order=True).to_list() == list(t.MODELS)


def test_an_unknown_model_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="allowed: first_touch, last_touch, linear"):
        t.attribute_journeys(*FOUR, models=["u_shaped"])


def test_no_conversions_gives_no_credit() -> None:
    j, tt = frames([{"id": 1, "ends": 5, "converted": False}], [(1, 1, "a")])
    assert t.attribute_journeys(j, tt).filter(pl.col("conversions") > 0).is_empty()


def test_journey_links_follow_the_first_steps_to_the_outcome() -> None:
    j, tt = frames(
        [
            {"id": 1, "ends": 9, "value": 1},
            {"id": 2, "ends": 9, "value": 1},
            {"id": 3, "ends": 9, "converted": False},
        ],
        [
            (1, 1, "email"),
            (1, 2, "events"),
            (1, 3, "referral"),
            (2, 1, "email"),
            (2, 2, "events"),
            (3, 1, "display"),
        ],
    )
    links = t.journey_links(j, tt, max_steps=2)
    assert links.to_dicts() == [
        {"source": "1. display", "target": "Lost/none", "journeys": 1},
        {"source": "1. email", "target": "2. events", "journeys": 2},
        {"source": "2. events", "target": "Won", "journeys": 2},
    ]


KEYS = st.sampled_from(["a", "b", "c", "d"])
JOURNEY = st.tuples(
    st.booleans(),  # converted
    st.integers(min_value=0, max_value=10_000),  # value
    st.lists(st.tuples(st.integers(0, 30), KEYS), min_size=0, max_size=6),  # (day, key)
    st.one_of(st.none(), st.integers(-5, 35)),  # lead day
    st.one_of(st.none(), st.integers(-5, 35)),  # opportunity day
)


@settings(max_examples=60, deadline=None)
@given(st.lists(JOURNEY, min_size=1, max_size=12), st.floats(min_value=0.5, max_value=30))
def test_every_model_credits_all_conversions_and_value_and_only_keys_on_journeys(
    spec: list[tuple[bool, int, list[tuple[int, str]], int | None, int | None]],
    half_life: float,
) -> None:
    journeys = [
        {"id": i + 1, "ends": 30, "value": v if c else 0, "converted": c, "lead": lead, "opp": opp}
        for i, (c, v, _, lead, opp) in enumerate(spec)
    ]
    touches = [(i + 1, d, k) for i, (_, _, ts, _, _) in enumerate(spec) for d, k in ts]
    j, tt = frames(journeys, touches)
    out = t.attribute_journeys(j, tt, half_life_days=half_life)
    conversions = sum(1 for c, *_ in spec if c)
    value = sum(v for c, v, *_ in spec if c)
    seen = {k for _, _, ts, _, _ in spec for _, k in ts} | {t.NO_TOUCH}
    for model in t.MODELS:
        rows = out.filter(pl.col("model") == model)
        assert rows["conversions"].sum() == pytest.approx(conversions, abs=1e-9)
        assert rows["value"].sum() == pytest.approx(value, rel=1e-9, abs=1e-6)
        assert set(rows["key"]) <= seen
        assert (rows["conversions"] >= -1e-12).all()
