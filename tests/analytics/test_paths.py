"""Attribution over aggregated journeys: hand-computed fixtures, properties, the CLI and the API."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.compute import markov
from tandem.analytics.compute.paths import (
    MODELS,
    PathsError,
    attribute_paths,
    parse_models,
    paths_from_records,
    read_paths_csv,
)

FIXTURES = Path(__file__).parent / "fixtures"
TANDEM = str(Path(sys.executable).parent / "tandem")


def credits(result: pl.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    return {(m, c): (conv, val) for c, m, conv, val in result.iter_rows()}


def assert_credits(result: pl.DataFrame, expected: dict[tuple[str, str], tuple[F, F]]) -> None:
    got = credits(result)
    assert set(got) == set(expected)
    for key, (conv, val) in expected.items():
        assert got[key][0] == pytest.approx(float(conv), rel=1e-12, abs=1e-12), key
        assert got[key][1] == pytest.approx(float(val), rel=1e-12, abs=1e-12), key


# ---------------------------------------------------------------- hand-computed fixtures

# paths_three_channels.csv (rows 1 and 5 are the same path, summed; spaces are trimmed):
#   P1 email>seo>ads>email  conv 5  value 500  null 6
#   P2 seo                  conv 2  value 100  null 3
#   P3 ads>email            conv 1  value  50  null 0
#   P4 seo>email            conv 0  value   0  null 5      totals: 8 conversions, 650 value
# first touch: email P1 (5, 500), seo P2 (2, 100), ads P3 (1, 50)
# last touch:  email P1+P3 (6, 550), seo P2 (2, 100), ads (0, 0)
# linear per touch: P1 email 2/4, seo 1/4, ads 1/4; P3 1/2 each
#   email 2.5+0.5 = 3 (250+25 = 275); seo 1.25+2 = 3.25 (125+100); ads 1.25+0.5 = 1.75 (125+25)
# position based: P1 email 0.4+0.4, seo 0.1, ads 0.1; P2 seo 1; P3 0.5/0.5
#   email 4+0.5 = 4.5 (400+25); seo 0.5+2 = 2.5 (50+100); ads 0.5+0.5 = 1 (50+25)
# shapley: P1 over {email, seo, ads} 5/3 (500/3) each; P3 over {ads, email} 1/2 (25) each
#   email 13/6 (575/3); seo 11/3 (800/3); ads 13/6 (575/3)
# markov: transition counts weighted by conv + null (P1 11, P2 5, P3 1, P4 5):
#   start: email 11, seo 10, ads 1 (22)      email: seo 11, conv 6, null 11 (28)
#   seo: ads 11, email 5, conv 2, null 3 (21) ads: email 12 (12)
#   x_ads = x_email; x_seo = 16/21 x_email + 2/21; x_email = 11/28 x_seo + 6/28
#   → x_email = 37/103, x_seo = 38/103, x_start = (11·37 + 10·38 + 37)/(22·103) = 4/11
#   without ads (start→ads, seo→ads go to null): x_email = 148/533, x_seo = 86/533,
#     x_start = (11·148 + 10·86)/(22·533) = 1244/5863 → effect 1 - 1244/5863 ÷ 4/11 = 222/533
#   without email: x_ads = 0, x_seo = 2/21, x_start = 10/231 → effect 1 - 5/42 = 37/42
#   without seo: x_email = x_ads = 3/14, x_start = 12·(3/14)/22 = 9/77 → effect 1 - 9/28 = 19/28
#   conversions = 8 · effect / (222/533 + 37/42 + 19/28)
# markov value: leaving email into conversion pays 550/6 per conversion (r_email = 550/28),
#   leaving seo pays 100/2 (r_seo = 100/21); u = N r:
#   u_email = 6325/206, u_seo = 2900/103, u_start = 33475/1133 (= 650/22)
#   without ads: u_email = 12650/533, u_seo = 5550/533, u_start = 97325/5863 → effect 3036/6929
#   without email: u_seo = 100/21, u_start = 500/231 → effect 1 - 20/273 = 253/273
#   without seo: u_email = u_ads = 275/14, u_start = 825/77 → effect 1 - 33/91 = 58/91
#   value = 650 · effect / (3036/6929 + 253/273 + 58/91)
RE = {"ads": F(222, 533), "email": F(37, 42), "seo": F(19, 28)}
RE_VALUE = {"ads": F(3036, 6929), "email": F(253, 273), "seo": F(58, 91)}
THREE = {
    ("first_touch", "ads"): (F(1), F(50)),
    ("first_touch", "email"): (F(5), F(500)),
    ("first_touch", "seo"): (F(2), F(100)),
    ("last_touch", "ads"): (F(0), F(0)),
    ("last_touch", "email"): (F(6), F(550)),
    ("last_touch", "seo"): (F(2), F(100)),
    ("linear", "ads"): (F(7, 4), F(150)),
    ("linear", "email"): (F(3), F(275)),
    ("linear", "seo"): (F(13, 4), F(225)),
    ("position_based", "ads"): (F(1), F(75)),
    ("position_based", "email"): (F(9, 2), F(425)),
    ("position_based", "seo"): (F(5, 2), F(150)),
    **{
        ("markov", c): (8 * RE[c] / sum(RE.values()), 650 * RE_VALUE[c] / sum(RE_VALUE.values()))
        for c in RE
    },
    ("shapley", "ads"): (F(13, 6), F(575, 3)),
    ("shapley", "email"): (F(13, 6), F(575, 3)),
    ("shapley", "seo"): (F(11, 3), F(800, 3)),
}

# paths_two_channels.csv: a>b (1 conv, 10, 1 null), b (1, 30, 0), a (0, empty value, 2 null)
#   markov: start: a 4, b 1; a: b 2, null 2; b: conv 2, null 1
#   x_b = 2/3, x_a = 1/3, x_start = 4/5·1/3 + 1/5·2/3 = 2/5
#   without a: x_start = 1/5·2/3 = 2/15 → effect 2/3; without b: x_start = 0 → effect 1
#   conversions: a = 2 · (2/3)/(5/3) = 0.8, b = 1.2; value (only b pays, 40/3 per visit):
#   u_start = 8, without a 8/3 → 2/3, without b 0 → 1: a = 40 · 0.4 = 16, b = 24
TWO = {
    ("first_touch", "a"): (F(1), F(10)),
    ("first_touch", "b"): (F(1), F(30)),
    ("last_touch", "a"): (F(0), F(0)),
    ("last_touch", "b"): (F(2), F(40)),
    **{(m, "a"): (F(1, 2), F(5)) for m in ("linear", "position_based", "shapley")},
    **{(m, "b"): (F(3, 2), F(35)) for m in ("linear", "position_based", "shapley")},
    ("markov", "a"): (F(4, 5), F(16)),
    ("markov", "b"): (F(6, 5), F(24)),
}

# paths_pipe.csv (sep "|", no value or null columns; " | a | a | " is a>a):
#   first a 3+2 = 5, b 1; last b 3+1 = 4, a 2; linear/position/shapley a 1.5+2, b 1.5+1
#   markov (nothing is lost): start: a 5, b 1; a: b 3, a 2, conv 2; b: conv 4 → x = 1 everywhere;
#   without a: x_start = 1/6 → 5/6; without b: x_a = 2/5, x_start = 5·(2/5)/6 = 1/3 → 2/3
#   a = 6 · (5/6)/(3/2) = 10/3, b = 8/3
PIPE = {
    ("first_touch", "a"): (F(5), F(0)),
    ("first_touch", "b"): (F(1), F(0)),
    ("last_touch", "a"): (F(2), F(0)),
    ("last_touch", "b"): (F(4), F(0)),
    **{(m, "a"): (F(7, 2), F(0)) for m in ("linear", "position_based", "shapley")},
    **{(m, "b"): (F(5, 2), F(0)) for m in ("linear", "position_based", "shapley")},
    ("markov", "a"): (F(10, 3), F(0)),
    ("markov", "b"): (F(8, 3), F(0)),
}


def test_three_channel_fixture_all_models() -> None:
    result = attribute_paths(read_paths_csv(FIXTURES / "paths_three_channels.csv"))
    assert_credits(result, THREE)
    # MODELS order, then channel.
    assert result.get_column("model").unique(maintain_order=True).to_list() == list(MODELS)
    assert result.get_column("channel").to_list()[:3] == ["ads", "email", "seo"]


def test_three_channel_removal_effects_exact() -> None:
    frame = read_paths_csv(FIXTURES / "paths_three_channels.csv")
    probability, effects = markov.removal_effects(frame)
    assert probability == pytest.approx(4 / 11, rel=1e-12)
    assert effects == pytest.approx({c: float(v) for c, v in RE.items()}, rel=1e-12)
    value, value_effects = markov.value_removal_effects(frame)
    assert value == pytest.approx(33475 / 1133, rel=1e-12)
    assert value_effects == pytest.approx({c: float(v) for c, v in RE_VALUE.items()}, rel=1e-12)


def test_two_channel_and_pipe_fixtures() -> None:
    assert_credits(attribute_paths(read_paths_csv(FIXTURES / "paths_two_channels.csv")), TWO)
    assert_credits(attribute_paths(read_paths_csv(FIXTURES / "paths_pipe.csv", sep="|")), PIPE)


def test_records_equal_csv_and_duplicates_add_up() -> None:
    records = [
        {"path": "a > b", "total_conversions": 1, "total_conversion_value": 10, "total_null": 1},
        {"path": "b", "total_conversions": 0.5, "total_conversion_value": 15},
        {"path": "b", "total_conversions": "0.5", "total_conversion_value": 15, "total_null": 0},
        {"path": "a", "total_conversions": 0, "total_conversion_value": None, "total_null": 2},
    ]
    assert_credits(attribute_paths(paths_from_records(records)), TWO)


def test_models_subset_and_order() -> None:
    frame = read_paths_csv(FIXTURES / "paths_two_channels.csv")
    result = attribute_paths(frame, models=["shapley", "first_touch"])
    assert result.get_column("model").to_list() == ["first_touch"] * 2 + ["shapley"] * 2
    assert parse_models("all") == MODELS
    assert parse_models(" markov , linear ") == ("linear", "markov")
    with pytest.raises(PathsError, match="unknown model 'w_shaped'"):
        parse_models("markov,w_shaped")


def test_zero_weight_channel_gets_a_zero_row_and_empty_input_no_rows() -> None:
    frame = paths_from_records(
        [
            {"path": "a", "total_conversions": 2, "total_null": 1},
            {"path": "z>a", "total_conversions": 0},
        ]
    )
    got = credits(attribute_paths(frame))
    for model in MODELS:
        assert got[(model, "z")] == (0.0, 0.0)
        assert got[(model, "a")] == pytest.approx((2.0, 0.0))
    assert attribute_paths(paths_from_records([])).height == 0


def test_nothing_converts_gives_zero_credits() -> None:
    frame = paths_from_records([{"path": "a>b", "total_conversions": 0, "total_null": 4}])
    result = attribute_paths(frame)
    assert result.height == 12
    assert result.get_column("conversions").sum() == 0
    assert result.get_column("value").sum() == 0


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the CSV file is empty"),
        ("route,total_conversions\na,1\n", "the header has no 'path' column"),
        ("path,total_null\na,1\n", "the header has no 'total_conversions' column"),
        (
            "path,total_conversions\na,1\nb,x\n",
            "row 2, column total_conversions: the value ('x') is not a number",
        ),
        (
            "path,total_conversions\na,1\nb,-1\n",
            "row 2, column total_conversions: the value ('-1') is negative",
        ),
        ("path,total_conversions\na,\n", "row 1, column total_conversions: the value is empty"),
        (
            "path,total_conversions,total_null\na,1,inf\n",
            "row 1, column total_null: the value ('inf') is not a finite number",
        ),
        (
            "path,total_conversions,total_conversion_value\na,1,1e\n",
            "row 1, column total_conversion_value: the value ('1e') is not a number",
        ),
        ("path,total_conversions\na,1\n > ,2\n", "row 2, column path: the path names no channel"),
        ("path,total_conversions\na,1\n,2\n", "row 2, column path: the path names no channel"),
        (
            "path,total_conversions,total_conversion_value\na,0,5\n",
            "row 1, column total_conversion_value: conversion value without conversions",
        ),
    ],
)
def test_bad_csv_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(text)
    with pytest.raises(PathsError) as caught:
        read_paths_csv(file)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_csv_reading_details(tmp_path: Path) -> None:
    file = tmp_path / "paths.csv"
    # A BOM, CRLF line ends, a blank line (skipped but counted) and quoted names.
    file.write_bytes(
        b'\xef\xbb\xbfpath,total_conversions\r\na>"b"\r\n\r\n"x,y",2\r\n'.replace(
            b'a>"b"', b"a>b,1"
        )
    )
    got = credits(attribute_paths(read_paths_csv(file), models=["first_touch"]))
    assert got == {
        ("first_touch", "a"): (1.0, 0.0),
        ("first_touch", "b"): (0.0, 0.0),
        ("first_touch", "x,y"): (2.0, 0.0),
    }
    file.write_text("path,total_conversions\na,1\n\nb,x\n")
    with pytest.raises(
        PathsError, match=r"^row 3, column total_conversions: the value \('x'\) is not a number$"
    ):
        read_paths_csv(file)
    file.write_text("path,total_conversions\na,1\nb,1,7\n")
    with pytest.raises(PathsError, match=r"^row 2: 3 fields, the header has 2$"):
        read_paths_csv(file)
    file.write_bytes(b"path,total_conversions\n\xff,1\n")
    with pytest.raises(PathsError, match=r"^line 2: the file is not UTF-8 text$"):
        read_paths_csv(file)
    with pytest.raises(PathsError, match=r"^not a file: "):
        read_paths_csv(tmp_path)
    with pytest.raises(PathsError, match=r"^file not found: .*\*\.csv$"):
        read_paths_csv(tmp_path / "*.csv")


def test_bad_records_and_sep() -> None:
    with pytest.raises(PathsError, match=r"paths\[1\]\.total_conversions: must not be negative"):
        paths_from_records(
            [{"path": "a", "total_conversions": 1}, {"path": "b", "total_conversions": -2}]
        )
    with pytest.raises(PathsError, match=r"paths\[0\]\.path: the path names no channel"):
        paths_from_records([{"path": " > ", "total_conversions": 1}])
    with pytest.raises(PathsError, match="--sep must contain a visible character"):
        paths_from_records([{"path": "a", "total_conversions": 1}], sep="")
    with pytest.raises(PathsError, match="file not found"):
        read_paths_csv("/nonexistent/paths.csv")


def test_many_channels_shapley_and_markov_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 63 channels Shapley splits by (path, channel) pairs instead of bit masks; same answer."""
    names = [f"ch{i:02d}" for i in range(70)]
    records = [
        {"path": ">".join([names[i], names[(i * 7) % 70], names[i]]), "total_conversions": i % 3}
        for i in range(70)
    ]
    got = credits(attribute_paths(paths_from_records(records), models=["shapley"]))
    expected: dict[str, float] = dict.fromkeys(names, 0.0)
    for i in range(70):
        channels = {names[i], names[(i * 7) % 70]}
        for c in channels:
            expected[c] += (i % 3) / len(channels)
    assert got == {("shapley", c): (pytest.approx(v), 0.0) for c, v in expected.items()}
    monkeypatch.setattr(markov, "MAX_CHANNELS", 69)
    with pytest.raises(PathsError, match="70 distinct channels; the Markov model takes at most 69"):
        attribute_paths(paths_from_records(records), models=["markov"])


# ---------------------------------------------------------------- properties

channel_names = st.sampled_from(["ads", "email", "events", "seo", "social", "webinar"])
amounts = st.one_of(
    st.integers(0, 50).map(float), st.floats(0, 1000, allow_nan=False, allow_subnormal=False)
)
path_rows = st.lists(
    st.fixed_dictionaries(
        {
            "path": st.lists(channel_names, min_size=1, max_size=7).map(">".join),
            "total_conversions": amounts,
            "total_conversion_value": amounts,
            "total_null": amounts,
        }
    ).map(lambda r: r if r["total_conversions"] else {**r, "total_conversion_value": 0.0}),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(path_rows)
def test_every_model_sums_to_the_totals(rows: list[dict[str, object]]) -> None:
    frame = paths_from_records(rows)
    result = attribute_paths(frame)
    total_conv = frame.get_column("conversions").sum()
    total_value = frame.get_column("value").sum()
    seen = {c for row in rows for c in str(row["path"]).split(">")}
    for model in MODELS:
        part = result.filter(pl.col("model") == model)
        # A channel absent from every path has no row at all; each present one has exactly one.
        assert sorted(part.get_column("channel").to_list()) == sorted(seen)
        assert (part.get_column("conversions") >= 0).all()
        assert (part.get_column("value") >= 0).all()
        assert part.get_column("conversions").sum() == pytest.approx(total_conv, rel=1e-9, abs=1e-9)
        assert part.get_column("value").sum() == pytest.approx(total_value, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(path_rows)
def test_markov_effects_equal_a_direct_solve_per_channel(rows: list[dict[str, object]]) -> None:
    """The hitting-probability shortcut equals re-solving the chain with each channel removed."""
    frame = paths_from_records(rows)
    names = sorted({c for row in rows for c in str(row["path"]).split(">")})
    probability, effects = markov.removal_effects(frame)
    value, value_effects = markov.value_removal_effects(frame)
    transitions, converted, lost, earned = direct_counts(rows, names)
    n = len(names) + 1
    out = transitions.sum(axis=1) + converted + lost
    scale = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = transitions * scale[:, None]
    b = np.column_stack([converted * scale, earned * scale])
    base = np.linalg.solve(np.eye(n) - q, b)[0]
    assert probability == pytest.approx(base[0], rel=1e-9, abs=1e-12)
    assert value == pytest.approx(base[1], rel=1e-9, abs=1e-9)
    for i, name in enumerate(names, start=1):
        removed = q.copy()
        removed[:, i] = 0.0  # steps into the channel go to null
        without = np.linalg.solve(np.eye(n) - removed, b)[0]
        expect = 1 - without[0] / base[0] if base[0] > 0 else 0.0
        expect_value = 1 - without[1] / base[1] if base[1] > 0 else 0.0
        assert effects[name] == pytest.approx(expect, rel=1e-7, abs=1e-9)
        assert value_effects[name] == pytest.approx(expect_value, rel=1e-7, abs=1e-9)


def direct_counts(
    rows: list[dict[str, object]], names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Transition counts built journey by journey in plain Python (the test's own oracle)."""
    n = len(names) + 1
    index = {name: i for i, name in enumerate(names, start=1)}
    transitions = np.zeros((n, n))
    converted, lost, earned = np.zeros(n), np.zeros(n), np.zeros(n)
    for row in rows:
        conv = float(row["total_conversions"])  # type: ignore[arg-type]
        nulls = float(row.get("total_null") or 0)  # type: ignore[arg-type]
        value = float(row.get("total_conversion_value") or 0)  # type: ignore[arg-type]
        states = [0, *(index[c] for c in str(row["path"]).split(">"))]
        for a, b in itertools.pairwise(states):
            transitions[a, b] += conv + nulls
        converted[states[-1]] += conv
        lost[states[-1]] += nulls
        earned[states[-1]] += value
    return transitions, converted, lost, earned


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.integers(0, 20), st.integers(0, 20)),
        min_size=1,
        max_size=8,
    ).filter(lambda rows: any(conv for _, conv, _ in rows))
)
def test_single_channel_world_gets_everything(rows: list[tuple[int, int, int]]) -> None:
    records = [
        {
            "path": ">".join(["seo"] * length),
            "total_conversions": conv,
            "total_null": nulls,
            "total_conversion_value": conv * 10,
        }
        for length, conv, nulls in rows
    ]
    frame = paths_from_records(records)
    _, effects = markov.removal_effects(frame)
    assert effects == {"seo": pytest.approx(1.0, rel=1e-12)}
    total = sum(conv for _, conv, _ in rows)
    for model in MODELS:
        assert credits(attribute_paths(frame, models=[model])) == {
            (model, "seo"): pytest.approx((float(total), float(total * 10)))
        }


# ---------------------------------------------------------------- cross-check with ChannelAttribution


def test_agrees_with_channel_attribution() -> None:
    ca = pytest.importorskip("ChannelAttribution")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    aggregated: dict[str, list[float]] = {}
    for _ in range(300):
        path = ">".join(
            rng.choice(["a", "b", "c", "d"], size=int(rng.integers(1, 6)), p=[0.4, 0.3, 0.2, 0.1])
        )
        row = aggregated.setdefault(path, [0, 0.0, 0])
        conv = int(rng.integers(0, 5))
        row[0] += conv
        row[1] += conv * float(rng.integers(10, 100))
        row[2] += int(rng.integers(0, 10))
    data = pd.DataFrame(
        [
            {"path": p, "total_conversions": c, "total_conversion_value": v, "total_null": n}
            for p, (c, v, n) in aggregated.items()
        ]
    )
    ours = credits(attribute_paths(paths_from_records(data.to_dict("records"))))
    heuristic = ca.heuristic_models(
        data, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False
    )
    for _, row in heuristic.iterrows():
        channel = row["channel_name"]
        for model, theirs in (
            ("first_touch", "first_touch"),
            ("last_touch", "last_touch"),
            ("linear", "linear_touch"),
        ):
            assert ours[(model, channel)][0] == pytest.approx(
                row[f"{theirs}_conversions"], rel=1e-9
            )
            assert ours[(model, channel)][1] == pytest.approx(row[f"{theirs}_value"], rel=1e-9)
    # Their Markov model simulates journeys (and by default truncates them at the longest observed
    # path); with long walks allowed and 10⁶ simulations it lands within simulation noise of ours.
    simulated = ca.markov_model(
        data,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null="total_null",
        max_step=200,
        nsim_start=1e6,
        verbose=False,
        flg_pro=False,
        out_more=True,
    )
    _, effects = markov.removal_effects(paths_from_records(data.to_dict("records")))
    for _, row in simulated["removal_effects"].iterrows():
        assert effects[row["channel_name"]] == pytest.approx(
            row["removal_effects_conversion"], abs=0.01
        )
    for _, row in simulated["result"].iterrows():
        assert ours[("markov", row["channel_name"])][0] == pytest.approx(
            row["total_conversions"], rel=0.03
        )


# ---------------------------------------------------------------- the command line


def tandem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, timeout=120, check=False)


def test_cli_happy_path_prints_the_csv() -> None:
    done = tandem("attribution", "paths", str(FIXTURES / "paths_two_channels.csv"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "channel,model,conversions,value",
        "a,first_touch,1.0,10.0",
        "b,first_touch,1.0,30.0",
        "a,last_touch,0.0,0.0",
        "b,last_touch,2.0,40.0",
        "a,linear,0.5,5.0",
        "b,linear,1.5,35.0",
        "a,position_based,0.5,5.0",
        "b,position_based,1.5,35.0",
        "a,markov,0.8,16.0",
        "b,markov,1.2,24.0",
        "a,shapley,0.5,5.0",
        "b,shapley,1.5,35.0",
    ]


def test_cli_out_sep_and_models(tmp_path: Path) -> None:
    out = tmp_path / "credits.csv"
    done = tandem(
        "attribution",
        "paths",
        str(FIXTURES / "paths_pipe.csv"),
        "--sep",
        "|",
        "--models",
        "markov,first_touch",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert out.read_text().splitlines() == [
        "channel,model,conversions,value",
        "a,first_touch,5.0,0.0",
        "b,first_touch,1.0,0.0",
        "a,markov,3.333333,0.0",
        "b,markov,2.666667,0.0",
    ]
    # Rounded to six decimals, the three-channel Markov credits as hand-computed.
    done = tandem(
        "attribution", "paths", str(FIXTURES / "paths_three_channels.csv"), "--models", "markov"
    )
    assert done.stdout.splitlines()[1:] == [
        f"{c},markov,{round(float(THREE[('markov', c)][0]), 6)!r},{round(float(THREE[('markov', c)][1]), 6)!r}"
        for c in ("ads", "email", "seo")
    ]


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["missing.csv"], None, "file not found"),
        (["bad.csv"], "path,total_conversions\na,1\nb,lots\n", "row 2, column total_conversions"),
        (["bad.csv"], "path,conversions\na,1\n", "the header has no 'total_conversions' column"),
        (
            ["bad.csv"],
            "path,total_conversions\n>,1\n",
            "row 1, column path: the path names no channel",
        ),
        (
            ["bad.csv", "--models", "magic"],
            "path,total_conversions\na,1\n",
            "unknown model 'magic'",
        ),
        (
            ["bad.csv", "--sep", ""],
            "path,total_conversions\na,1\n",
            "--sep must contain a visible character",
        ),
        (
            ["bad.csv", "--out", "/nonexistent/dir/x.csv"],
            "path,total_conversions\na,1\n",
            "--out: folder not found",
        ),
        ([], None, "the following arguments are required: file"),
    ],
)
def test_cli_bad_input_one_line(
    tmp_path: Path, args: list[str], content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "bad.csv").write_text(content)
    resolved = [
        str(tmp_path / a) if a.endswith(".csv") and not a.startswith("/") else a for a in args
    ]
    done = tandem("attribution", "paths", *resolved)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert lines[0].startswith("tandem attribution paths: error: ")


def test_django_command_matches_the_fast_path(tmp_path: Path) -> None:
    """`attribution paths` through Django's call_command writes what the fast path prints."""
    from django.core.management import CommandError, call_command

    buffer = io.StringIO()
    call_command("attribution", "paths", str(FIXTURES / "paths_two_channels.csv"), stdout=buffer)
    assert (
        buffer.getvalue()
        == tandem("attribution", "paths", str(FIXTURES / "paths_two_channels.csv")).stdout
    )
    with pytest.raises(CommandError, match="file not found"):
        call_command("attribution", "paths", str(tmp_path / "none.csv"))


def test_tandem_help_lists_attribution() -> None:
    done = tandem("--help")
    assert "attribution" in done.stdout


# ---------------------------------------------------------------- the API

URL = "/analytics/attribution/paths"
TWO_RECORDS = [
    {"path": "a > b", "total_conversions": 1, "total_conversion_value": 10, "total_null": 1},
    {"path": "b", "total_conversions": 1, "total_conversion_value": 30},
    {"path": "a", "total_conversions": 0, "total_null": 2},
]


@pytest.mark.django_db
def test_api_happy_path(api_as) -> None:
    response = api_as("rep1").post(URL, {"paths": TWO_RECORDS})
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    assert {(r["model"], r["channel"]): (r["conversions"], r["value"]) for r in rows} == {
        k: (float(c), float(v)) for k, (c, v) in TWO.items()
    }
    assert rows[0] == {"channel": "a", "model": "first_touch", "conversions": 1.0, "value": 10.0}
    # Same separator and model options as the CLI.
    piped = [dict(r, path=str(r["path"]).replace(">", "|")) for r in TWO_RECORDS]
    response = api_as("marketing").post(URL, {"paths": piped, "sep": "|", "models": ["markov"]})
    assert response.status_code == 200
    assert response.json()["rows"] == [
        {"channel": "a", "model": "markov", "conversions": 0.8, "value": 16.0},
        {"channel": "b", "model": "markov", "conversions": 1.2, "value": 24.0},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"paths": TWO_RECORDS, "models": ["w_shaped"]}, "unknown model 'w_shaped'"),
        ({"paths": TWO_RECORDS, "models": []}, "no model given"),
        (
            {"paths": [{"path": " > ", "total_conversions": 1}]},
            "paths[0].path: the path names no channel",
        ),
        (
            {"paths": [{"path": "a", "total_conversions": -1}]},
            "paths[0].total_conversions: must not be negative",
        ),
        ({"paths": TWO_RECORDS, "sep": " "}, "--sep must contain a visible character"),
    ],
)
def test_api_bad_input_is_400(api_as, body: dict[str, object], message: str) -> None:
    response = api_as("admin").post(URL, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.django_db
def test_api_too_many_paths_and_malformed(api_as, monkeypatch: pytest.MonkeyPatch) -> None:
    from tandem.analytics.api import paths as api_paths

    monkeypatch.setattr(api_paths, "MAX_PATHS", 2)
    response = api_as("admin").post(URL, {"paths": TWO_RECORDS})
    assert response.status_code == 400
    assert response.json()["detail"] == "paths: 3 given, at most 2"
    # A body of the wrong shape is refused by the schema (422, like every other route).
    response = api_as("admin").post(URL, {"paths": [{"path": "a", "total_conversions": "many"}]})
    assert response.status_code == 422


@pytest.mark.django_db
def test_api_needs_a_key(world) -> None:
    from tests.conftest import ApiClient

    response = ApiClient(None).post(URL, {"paths": TWO_RECORDS})
    assert response.status_code == 401
    response = ApiClient("not-a-key").post(URL, {"paths": TWO_RECORDS})
    assert response.status_code == 401
