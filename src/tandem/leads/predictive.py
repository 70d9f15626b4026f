"""The predictive model's mathematics: features in, probabilities and JSON parameters out.

Pure numpy + scikit-learn (no Django): `services/predictive.py` loads the rows and stores the
result. Two models compete on a deterministic stratified holdout:

- the baseline, a naive-Bayes frequency model in the manner of Odoo's predictive lead scoring:
  for every value of every feature, how often it occurs among won and among lost contacts
  (Laplace-smoothed), combined as a sum of log-likelihood ratios; engagement counts are binned
  so they become values too;
- the challenger, an L2-regularised logistic regression over one-hot fit fields and
  standardised log counts.

The one with the higher held-out AUC is kept and calibrated with a Platt fit (a logistic curve
over its score) on the holdout. Everything needed to score a contact again is plain JSON
(`parameters`), rebuilt by `predict_from_parameters`; nothing is pickled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

# Fit fields, as strings ("" = unknown). Order matters only for display.
CATEGORICAL_FEATURES: tuple[str, ...] = (
    "persona",
    "industry",
    "company_size",
    "country",
    "region",
    "source",
    "seniority",
)
# Engagement in the contact's first days (counts).
NUMERIC_FEATURES: tuple[str, ...] = (
    "page_views",
    "form_submits",
    "content_views",
    "link_clicks",
    "campaigns",
)
FEATURE_LABELS: dict[str, str] = {
    "persona": "Persona",
    "industry": "Company industry",
    "company_size": "Company size",
    "country": "Country",
    "region": "Region",
    "source": "Original source",
    "seniority": "Title seniority",
    "page_views": "Page views",
    "form_submits": "Form submissions",
    "content_views": "Content views and downloads",
    "link_clicks": "Link clicks",
    "campaigns": "Campaigns touched",
}

HOLDOUT_SHARE = 0.25
SEED = 20260
LAPLACE_ALPHA = 1.0
LR_C = 1.0
RELIABILITY_BINS = 10
TOP_FACTORS = 15
# A value seen fewer times than this is not shown as a factor: with a handful of rows its
# likelihood ratio is mostly noise (it still counts in predictions).
MIN_FACTOR_SUPPORT = 10
UNKNOWN = ""

# Employee-count bands (lower bounds) and their labels.
SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (1000, "1000+"),
    (200, "200-999"),
    (50, "50-199"),
    (10, "10-49"),
    (1, "1-9"),
)
# Engagement count bins of the naive-Bayes model: (upper bound inclusive, label).
COUNT_BINS: tuple[tuple[float, str], ...] = (
    (0, "0"),
    (1, "1"),
    (3, "2-3"),
    (7, "4-7"),
    (math.inf, "8+"),
)
SENIORITY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # "vp" first: "Vice President" must not read as the executive "President".
    ("vp", ("vp", "vice president", "svp", "evp")),
    (
        "executive",
        (
            "ceo",
            "cto",
            "cfo",
            "coo",
            "cmo",
            "cio",
            "chief",
            "founder",
            "owner",
            "president",
            "partner",
        ),
    ),
    ("director", ("director", "head of", "head")),
    ("manager", ("manager", "lead", "principal")),
)


def company_size_band(employees: int | None) -> str:
    """The employee-count band of a company ("" when unknown)."""
    if not employees:
        return UNKNOWN
    for lower, label in SIZE_BANDS:
        if employees >= lower:
            return label
    return UNKNOWN


def title_seniority(title: str | None) -> str:
    """A coarse seniority read from title keywords ("other" when none match, "" when empty)."""
    text = (title or "").strip().lower()
    if not text:
        return UNKNOWN
    words = set(text.replace(",", " ").replace("/", " ").replace("-", " ").split())
    for level, keys in SENIORITY_WORDS:
        for key in keys:
            if (" " in key and key in text) or key in words:
                return level
    return "other"


def count_bin(count: float) -> str:
    """The naive-Bayes bin label of an engagement count."""
    for upper, label in COUNT_BINS:
        if count <= upper:
            return label
    return COUNT_BINS[-1][1]


@dataclass
class Dataset:
    """Rows of features: categorical values per feature, a numeric matrix, and outcomes."""

    categorical: dict[str, list[str]]
    numeric: np.ndarray  # shape (n, len(NUMERIC_FEATURES)), counts
    y: np.ndarray | None = None  # 1 = reached customer

    def __len__(self) -> int:
        return int(self.numeric.shape[0])

    def take(self, index: np.ndarray) -> Dataset:
        """The rows at `index`, in that order."""
        return Dataset(
            categorical={f: [vals[i] for i in index] for f, vals in self.categorical.items()},
            numeric=self.numeric[index],
            y=None if self.y is None else self.y[index],
        )


def make_dataset(rows: Sequence[Mapping[str, Any]], y: Sequence[int] | None = None) -> Dataset:
    """A Dataset from dict rows holding every feature name (missing → unknown / 0)."""
    categorical = {f: [str(r.get(f) or UNKNOWN) for r in rows] for f in CATEGORICAL_FEATURES}
    numeric = np.array(
        [[float(r.get(f) or 0) for f in NUMERIC_FEATURES] for r in rows], dtype=float
    ).reshape(len(rows), len(NUMERIC_FEATURES))
    return Dataset(
        categorical=categorical,
        numeric=numeric,
        y=None if y is None else np.asarray(y, dtype=int),
    )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


# ---------------------------------------------------------------- the baseline: naive Bayes


def _nb_columns(data: Dataset) -> dict[str, list[str]]:
    """Every feature as values: fit fields as they are, counts binned."""
    columns = dict(data.categorical)
    for j, name in enumerate(NUMERIC_FEATURES):
        columns[name] = [count_bin(v) for v in data.numeric[:, j]]
    return columns


def fit_naive_bayes(data: Dataset) -> dict[str, Any]:
    """Per feature value, log P(value | won) - log P(value | lost), Laplace-smoothed."""
    assert data.y is not None
    y = data.y
    won_total = int(y.sum())
    lost_total = len(y) - won_total
    features: dict[str, Any] = {}
    for name, values in _nb_columns(data).items():
        won: dict[str, int] = {}
        lost: dict[str, int] = {}
        for value, outcome in zip(values, y, strict=True):
            bucket = won if outcome else lost
            bucket[value] = bucket.get(value, 0) + 1
        seen = sorted(set(won) | set(lost))
        # One extra slot for values never seen in training.
        slots = len(seen) + 1
        won_den = won_total + LAPLACE_ALPHA * slots
        lost_den = lost_total + LAPLACE_ALPHA * slots
        llr = {
            v: math.log((won.get(v, 0) + LAPLACE_ALPHA) / won_den)
            - math.log((lost.get(v, 0) + LAPLACE_ALPHA) / lost_den)
            for v in seen
        }
        features[name] = {
            "llr": llr,
            "unseen": math.log(LAPLACE_ALPHA / won_den) - math.log(LAPLACE_ALPHA / lost_den),
            "won": won,
            "lost": lost,
        }
    prior = math.log((won_total + LAPLACE_ALPHA) / (lost_total + LAPLACE_ALPHA))
    return {"kind": "naive_bayes", "prior_log_odds": prior, "features": features}


def naive_bayes_score(params: Mapping[str, Any], data: Dataset) -> np.ndarray:
    """The model's log-odds for each row (uncalibrated)."""
    score = np.full(len(data), float(params["prior_log_odds"]))
    for name, values in _nb_columns(data).items():
        feature = params["features"][name]
        llr, unseen = feature["llr"], float(feature["unseen"])
        score += np.fromiter((llr.get(v, unseen) for v in values), dtype=float, count=len(data))
    return score


def naive_bayes_factors(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Feature values ranked by the size of their log-likelihood ratio (enough support only)."""
    out = []
    for name, feature in params["features"].items():
        for value, weight in feature["llr"].items():
            support = feature["won"].get(value, 0) + feature["lost"].get(value, 0)
            if support < MIN_FACTOR_SUPPORT:
                continue
            out.append(
                {
                    "feature": name,
                    "value": value,
                    "weight": round(float(weight), 4),
                    "support": support,
                    "won": feature["won"].get(value, 0),
                }
            )
    out.sort(key=lambda f: (-abs(f["weight"]), f["feature"], f["value"]))
    return out[:TOP_FACTORS]


# ---------------------------------------------------------------- the challenger: logistic regression


def _lr_design(data: Dataset, params: Mapping[str, Any]) -> np.ndarray:
    """One-hot fit fields (values unseen in training → all zeros) + standardised log counts."""
    blocks = []
    for name in CATEGORICAL_FEATURES:
        cats = params["categories"][name]
        position = {v: i for i, v in enumerate(cats)}
        block = np.zeros((len(data), len(cats)))
        for row, value in enumerate(data.categorical[name]):
            i = position.get(value)
            if i is not None:
                block[row, i] = 1.0
        blocks.append(block)
    logs = np.log1p(np.maximum(data.numeric, 0))
    blocks.append((logs - np.asarray(params["mean"])) / np.asarray(params["scale"]))
    return np.hstack(blocks)


def fit_logistic(data: Dataset) -> dict[str, Any]:
    """An L2-regularised logistic regression, its weights kept by feature value."""
    assert data.y is not None
    logs = np.log1p(np.maximum(data.numeric, 0))
    mean = logs.mean(axis=0)
    scale = logs.std(axis=0)
    scale[scale == 0] = 1.0
    params: dict[str, Any] = {
        "kind": "logistic",
        "categories": {f: sorted(set(data.categorical[f])) for f in CATEGORICAL_FEATURES},
        "mean": [float(m) for m in mean],
        "scale": [float(s) for s in scale],
    }
    model = LogisticRegression(C=LR_C, max_iter=2000)
    model.fit(_lr_design(data, params), data.y)
    coef = [float(c) for c in model.coef_[0]]
    weights: dict[str, dict[str, float]] = {}
    at = 0
    for name in CATEGORICAL_FEATURES:
        cats = params["categories"][name]
        weights[name] = dict(zip(cats, coef[at : at + len(cats)], strict=True))
        at += len(cats)
    params["weights"] = weights
    params["numeric_weights"] = dict(zip(NUMERIC_FEATURES, coef[at:], strict=True))
    params["intercept"] = float(model.intercept_[0])
    return params


def logistic_score(params: Mapping[str, Any], data: Dataset) -> np.ndarray:
    """The regression's log-odds for each row, from its JSON weights alone."""
    score = np.full(len(data), float(params["intercept"]))
    for name in CATEGORICAL_FEATURES:
        weights = params["weights"][name]
        score += np.fromiter(
            (weights.get(v, 0.0) for v in data.categorical[name]), dtype=float, count=len(data)
        )
    logs = np.log1p(np.maximum(data.numeric, 0))
    standard = (logs - np.asarray(params["mean"])) / np.asarray(params["scale"])
    score += standard @ np.asarray([params["numeric_weights"][f] for f in NUMERIC_FEATURES])
    return score


def logistic_factors(params: Mapping[str, Any], data: Dataset) -> list[dict[str, Any]]:
    """Coefficients ranked by size (per value for fit fields, per standard deviation for counts)."""
    support: dict[str, dict[str, int]] = {}
    won: dict[str, dict[str, int]] = {}
    assert data.y is not None
    for name in CATEGORICAL_FEATURES:
        counts: dict[str, int] = {}
        wins: dict[str, int] = {}
        for value, outcome in zip(data.categorical[name], data.y, strict=True):
            counts[value] = counts.get(value, 0) + 1
            wins[value] = wins.get(value, 0) + int(outcome)
        support[name], won[name] = counts, wins
    out: list[dict[str, Any]] = []
    for name in CATEGORICAL_FEATURES:
        for value, weight in params["weights"][name].items():
            if support[name].get(value, 0) < MIN_FACTOR_SUPPORT:
                continue
            out.append(
                {
                    "feature": name,
                    "value": value,
                    "weight": round(float(weight), 4),
                    "support": support[name].get(value, 0),
                    "won": won[name].get(value, 0),
                }
            )
    for name in NUMERIC_FEATURES:
        out.append(
            {
                "feature": name,
                "value": "per standard deviation of log(1 + count)",
                "weight": round(float(params["numeric_weights"][name]), 4),
                # A count is not one group of contacts: no support to show.
                "support": None,
                "won": None,
            }
        )
    out.sort(key=lambda f: (-abs(f["weight"]), f["feature"], f["value"]))
    return out[:TOP_FACTORS]


# ---------------------------------------------------------------- calibration, diagnostics, rebuild


def raw_score(params: Mapping[str, Any], data: Dataset) -> np.ndarray:
    """The chosen kind's uncalibrated log-odds."""
    if params["kind"] == "naive_bayes":
        return naive_bayes_score(params, data)
    if params["kind"] == "logistic":
        return logistic_score(params, data)
    raise ValueError(f"unknown model kind {params['kind']!r}")


def fit_platt(score: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """A logistic curve p = sigmoid(a * score + b) fitted to outcomes (Platt scaling)."""
    model = LogisticRegression(C=1e6, max_iter=2000)
    model.fit(score.reshape(-1, 1), y)
    return {"a": float(model.coef_[0][0]), "b": float(model.intercept_[0])}


def predict_from_parameters(parameters: Mapping[str, Any], data: Dataset) -> np.ndarray:
    """Calibrated probabilities rebuilt from the stored JSON parameters alone."""
    score = raw_score(parameters, data)
    calibration = parameters.get("calibration")
    if not calibration:
        return _sigmoid(score)
    return _sigmoid(calibration["a"] * score + calibration["b"])


def reliability_bins(
    probabilities: np.ndarray, y: np.ndarray, *, bins: int = RELIABILITY_BINS
) -> list[dict[str, Any]]:
    """Equal-width bins over [0, 1]: count, mean predicted probability, observed positive rate."""
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        out.append(
            {
                "lower": round(b / bins, 4),
                "upper": round((b + 1) / bins, 4),
                "count": count,
                "mean_predicted": round(float(probabilities[mask].mean()), 4) if count else None,
                "observed_rate": round(float(y[mask].mean()), 4) if count else None,
            }
        )
    return out


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve, or None when the rows hold only one class."""
    if len(set(y.tolist())) < 2:
        return None
    return float(roc_auc_score(y, score))


@dataclass
class TrainingResult:
    """What one training run produced, ready to be stored as a PredictiveModel row."""

    training_rows: int
    positives: int
    holdout_rows: int
    baseline_auc: float | None
    challenger_auc: float | None
    chosen: str
    parameters: dict[str, Any]
    reliability: list[dict[str, Any]]
    factors: list[dict[str, Any]]
    holdout_probabilities: np.ndarray


def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic stratified split of row positions: (train, holdout)."""
    positions = np.arange(len(y))
    train, holdout = train_test_split(
        positions, test_size=HOLDOUT_SHARE, random_state=SEED, stratify=y
    )
    return np.sort(train), np.sort(holdout)


def train(data: Dataset) -> TrainingResult:
    """Fit both models on the training split, keep the better by held-out AUC, calibrate it."""
    assert data.y is not None
    train_at, holdout_at = split(data.y)
    fit_rows, held = data.take(train_at), data.take(holdout_at)
    assert held.y is not None

    baseline = fit_naive_bayes(fit_rows)
    challenger = fit_logistic(fit_rows)
    baseline_score = naive_bayes_score(baseline, held)
    challenger_score = logistic_score(challenger, held)
    baseline_auc = auc(held.y, baseline_score)
    challenger_auc = auc(held.y, challenger_score)

    # Ties go to the baseline: it is the simpler model to explain.
    if (challenger_auc or 0.0) > (baseline_auc or 0.0):
        chosen, params, score = "logistic", challenger, challenger_score
        factors = logistic_factors(challenger, fit_rows)
    else:
        chosen, params, score = "naive_bayes", baseline, baseline_score
        factors = naive_bayes_factors(baseline)
    params["calibration"] = fit_platt(score, held.y)
    probabilities = predict_from_parameters(params, held)
    return TrainingResult(
        training_rows=len(data),
        positives=int(data.y.sum()),
        holdout_rows=len(held),
        baseline_auc=None if baseline_auc is None else round(baseline_auc, 4),
        challenger_auc=None if challenger_auc is None else round(challenger_auc, 4),
        chosen=chosen,
        parameters=params,
        reliability=reliability_bins(probabilities, held.y),
        factors=factors,
        holdout_probabilities=probabilities,
    )
