"""The predictive model's mathematics on synthetic data whose outcome depends on known features."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tandem.leads import predictive as engine

INDUSTRIES = ["Software", "Retail", "Health", "Finance"]
COUNTRIES = ["US", "GB", "DE", "FR"]


def synthetic(n: int, *, seed: int, page_view_effect: float = 0.0) -> engine.Dataset:
    """Industry "Software" (and optionally page views) raises the odds; the rest is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    logits = []
    for _ in range(n):
        industry = INDUSTRIES[int(rng.integers(len(INDUSTRIES)))]
        page_views = int(rng.poisson(3))
        rows.append(
            {
                "industry": industry,
                "country": COUNTRIES[int(rng.integers(len(COUNTRIES)))],
                "source": ["email", "direct"][int(rng.integers(2))],
                "page_views": page_views,
                "link_clicks": int(rng.poisson(1)),
            }
        )
        logits.append(
            -2.0 + 3.0 * (industry == "Software") + page_view_effect * (np.log1p(page_views) - 1.2)
        )
    y = (rng.random(n) < 1 / (1 + np.exp(-np.array(logits)))).astype(int)
    return engine.make_dataset(rows, y.tolist())


def test_both_models_learn_and_the_better_is_chosen() -> None:
    result = engine.train(synthetic(2000, seed=1, page_view_effect=1.5))
    assert result.baseline_auc is not None and result.challenger_auc is not None
    assert result.baseline_auc > 0.7
    assert result.challenger_auc > 0.7
    better = "logistic" if result.challenger_auc > result.baseline_auc else "naive_bayes"
    assert result.chosen == better
    assert result.parameters["kind"] == better
    assert result.training_rows == 2000
    assert result.holdout_rows == 500  # 25 %, stratified
    assert sum(b["count"] for b in result.reliability) == 500


def test_split_is_deterministic_and_stratified() -> None:
    y = np.array([1] * 40 + [0] * 160)
    train_a, held_a = engine.split(y)
    _train_b, held_b = engine.split(y)
    assert held_a.tolist() == held_b.tolist()
    assert len(held_a) == 50
    assert int(y[held_a].sum()) == 10  # the same share of positives as the whole
    assert set(train_a.tolist()).isdisjoint(held_a.tolist())


@pytest.mark.parametrize("kind", ["naive_bayes", "logistic"])
def test_factors_rank_the_informative_feature_first(kind: str) -> None:
    data = synthetic(2000, seed=2)
    if kind == "naive_bayes":
        factors = engine.naive_bayes_factors(engine.fit_naive_bayes(data))
    else:
        factors = engine.logistic_factors(engine.fit_logistic(data), data)
    assert (factors[0]["feature"], factors[0]["value"]) == ("industry", "Software")
    assert factors[0]["weight"] > 0
    weights = [abs(f["weight"]) for f in factors]
    assert weights == sorted(weights, reverse=True)


def test_the_chosen_models_factors_are_stored() -> None:
    result = engine.train(synthetic(2000, seed=2))
    assert (result.factors[0]["feature"], result.factors[0]["value"]) == ("industry", "Software")


@pytest.mark.parametrize("kind", ["naive_bayes", "logistic"])
def test_json_round_trip_reproduces_predictions(kind: str) -> None:
    data = synthetic(600, seed=3, page_view_effect=1.0)
    params = engine.fit_naive_bayes(data) if kind == "naive_bayes" else engine.fit_logistic(data)
    score = engine.raw_score(params, data)
    params["calibration"] = engine.fit_platt(score, data.y)
    in_memory = engine.predict_from_parameters(params, data)
    rebuilt = json.loads(json.dumps(params))
    again = engine.predict_from_parameters(rebuilt, data)
    assert np.array_equal(in_memory, again)


def test_trained_result_is_reproduced_from_json() -> None:
    data = synthetic(1200, seed=4, page_view_effect=1.5)
    result = engine.train(data)
    _, held = engine.split(data.y)
    rebuilt = json.loads(json.dumps(result.parameters))
    assert np.allclose(
        engine.predict_from_parameters(rebuilt, data.take(held)),
        result.holdout_probabilities,
        rtol=0,
        atol=1e-12,
    )


def test_logistic_json_matches_sklearn() -> None:
    """The weights kept by value give the same log-odds as the fitted estimator."""
    from sklearn.linear_model import LogisticRegression

    data = synthetic(500, seed=5, page_view_effect=1.0)
    params = engine.fit_logistic(data)
    model = LogisticRegression(C=engine.LR_C, max_iter=2000)
    model.fit(engine._lr_design(data, params), data.y)
    assert np.allclose(
        engine.logistic_score(params, data),
        model.decision_function(engine._lr_design(data, params)),
        atol=1e-9,
    )


def test_unseen_values_do_not_break_scoring() -> None:
    data = synthetic(400, seed=6)
    for params in (engine.fit_naive_bayes(data), engine.fit_logistic(data)):
        params["calibration"] = {"a": 1.0, "b": 0.0}
        novel = engine.make_dataset([{"industry": "Mining", "country": "ZZ", "page_views": 99}])
        p = engine.predict_from_parameters(params, novel)
        assert p.shape == (1,)
        assert 0 < p[0] < 1


def test_naive_bayes_counts_with_laplace_smoothing() -> None:
    rows = [{"industry": "A"}] * 3 + [{"industry": "B"}] * 1 + [{"industry": "B"}] * 4
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    params = engine.fit_naive_bayes(engine.make_dataset(rows, y))
    industry = params["features"]["industry"]
    # won: A 3, B 1 of 4; lost: B 4 of 4; two seen values + one unseen slot, alpha 1.
    assert industry["llr"]["A"] == pytest.approx(np.log(4 / 7) - np.log(1 / 7))
    assert industry["llr"]["B"] == pytest.approx(np.log(2 / 7) - np.log(5 / 7))
    assert industry["unseen"] == pytest.approx(0.0)
    assert params["prior_log_odds"] == pytest.approx(0.0)


def test_reliability_bins() -> None:
    p = np.array([0.05, 0.15, 0.12, 0.95, 1.0])
    y = np.array([0, 1, 0, 1, 1])
    bins = engine.reliability_bins(p, y)
    assert len(bins) == 10
    assert bins[0] == {
        "lower": 0.0,
        "upper": 0.1,
        "count": 1,
        "mean_predicted": 0.05,
        "observed_rate": 0.0,
    }
    assert bins[1]["count"] == 2
    assert bins[1]["mean_predicted"] == pytest.approx(0.135)
    assert bins[1]["observed_rate"] == 0.5
    assert bins[9]["count"] == 2  # 1.0 falls in the last bin
    assert bins[5] == {
        "lower": 0.5,
        "upper": 0.6,
        "count": 0,
        "mean_predicted": None,
        "observed_rate": None,
    }


@pytest.mark.parametrize(
    ("employees", "band"),
    [(None, ""), (0, ""), (1, "1-9"), (9, "1-9"), (10, "10-49"), (199, "50-199"), (5000, "1000+")],
)
def test_company_size_band(employees: int | None, band: str) -> None:
    assert engine.company_size_band(employees) == band


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("", ""),
        ("Chief Technology Officer", "executive"),
        ("VP Marketing", "vp"),
        ("Vice President, Sales", "vp"),
        ("Head of Growth", "director"),
        ("Marketing Manager", "manager"),
        ("Engineer", "other"),
        ("Leader of nothing", "other"),
    ],
)
def test_title_seniority(title: str, level: str) -> None:
    assert engine.title_seniority(title) == level


@pytest.mark.parametrize(
    ("count", "label"), [(0, "0"), (1, "1"), (2, "2-3"), (3, "2-3"), (7, "4-7"), (8, "8+")]
)
def test_count_bins(count: int, label: str) -> None:
    assert engine.count_bin(count) == label
