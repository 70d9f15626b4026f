"""First-order Markov attribution: removal effects solved exactly from the absorbing chain.

Intuition: every journey walks start → c1 → … → ck → conversion (or → null). Counting those steps
over all journeys gives a transition matrix whose transient states are `start` and the channels
and whose absorbing states are conversion and null. Removing channel c (every step into c goes
to null instead) loses exactly the journeys that ever reach c, so

    P(conversion without c) = P(conversion) - P(reach c from start) · P(conversion from c)

and the removal effect of c is P(reach c) · P(conversion from c) / P(conversion). Both factors
come from one linear solve with the fundamental matrix N = (I - Q)⁻¹ of the transient block:
the absorption probabilities are x = N b and P(reach c from start) = N[start, c] / N[c, c].
No simulation and no truncation of long journeys. Self-loops (c → c) change neither factor.

Value uses the same chain with a reward: leaving c into conversion pays the mean conversion value
of the journeys that converted right after c, so u = N r is the expected conversion value and the
value removal effect of c is P(reach c) · u[c] / u[start] (all value is paid at the last step, so
it is collected after c is reached).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

# A dense solve over n transient states costs n³; beyond this many channels it stops being quick.
MAX_CHANNELS = 2_000


@dataclass(frozen=True)
class ChainEffects:
    """The chain's conversion probability and value from start, and each channel's removal effects."""

    probability: float
    value: float
    effects: np.ndarray
    value_effects: np.ndarray


def chain_effects(
    *, transitions: np.ndarray, converted: np.ndarray, lost: np.ndarray, value: np.ndarray
) -> ChainEffects:
    """Exact removal effects of every channel from transition counts.

    State 0 is start, state i ≥ 1 is channel i - 1. `transitions[i, j]` counts steps i → j between
    transient states; `converted[i]` / `lost[i]` count steps from i into conversion / null and
    `value[i]` is the conversion value earned on the steps from i into conversion.
    """
    n = transitions.shape[0]
    out = transitions.sum(axis=1) + converted + lost
    # A state never left (a channel seen only on journeys weighted zero) keeps an all-zero row.
    # Value enters as shares of the total (effects are ratios), so a big value over a tiny weight
    # cannot overflow.
    total_value = float(value.sum())
    shares = value / total_value if total_value > 0 else np.zeros(n)
    counts = np.column_stack([transitions, converted, shares])
    # Divided (not multiplied by 1/out) so that even subnormal weights normalise cleanly.
    rates = np.divide(counts, out[:, None], out=np.zeros_like(counts), where=out[:, None] > 0)
    q = rates[:, :n]
    rhs = np.empty((n, n + 2))
    rhs[:, :n] = np.eye(n)
    rhs[:, n:] = rates[:, n:]
    # Every state reaches absorption (each counted step ends a journey at conversion or null),
    # so I - Q is non-singular.
    solved = np.linalg.solve(np.eye(n) - q, rhs)
    fundamental = solved[:, :n]
    x = solved[:, n]
    u = solved[:, n + 1]
    reach = fundamental[0, 1:] / np.diag(fundamental)[1:]
    probability = float(x[0])
    expected_value = float(u[0]) * total_value
    effects = reach * x[1:] / probability if probability > 0 else np.zeros(n - 1)
    value_effects = reach * u[1:] / u[0] if u[0] > 0 else np.zeros(n - 1)
    return ChainEffects(
        probability=probability,
        value=expected_value,
        effects=np.clip(effects, 0.0, 1.0),
        value_effects=np.clip(value_effects, 0.0, 1.0),
    )


def transition_counts(
    *,
    codes: np.ndarray,
    offsets: np.ndarray,
    lengths: np.ndarray,
    conversions: np.ndarray,
    value: np.ndarray,
    nulls: np.ndarray,
    channels: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(transitions, converted, lost, value) of the chain from flattened journeys.

    `codes` holds every path's channel codes (0 … channels - 1) back to back; path p occupies
    codes[offsets[p] : offsets[p] + lengths[p]] and stands for conversions[p] + nulls[p] journeys.
    """
    n = channels + 1
    weight = conversions + nulls
    row = np.repeat(np.arange(len(lengths)), lengths)
    state = codes.astype(np.int64) + 1
    previous = np.empty_like(state)
    previous[1:] = state[:-1]
    previous[offsets] = 0  # each path's first step leaves start
    transitions = np.bincount(previous * n + state, weights=weight[row], minlength=n * n)
    last = state[offsets + lengths - 1]
    converted = np.bincount(last, weights=conversions, minlength=n)
    lost = np.bincount(last, weights=nulls, minlength=n)
    earned = np.bincount(last, weights=value, minlength=n)
    return transitions.reshape(n, n), converted, lost, earned


def removal_effects(paths: pl.DataFrame) -> tuple[float, dict[str, float]]:
    """P(conversion) from start and each channel's removal effect for a paths frame."""
    names, effects = _effects(paths)
    return effects.probability, dict(zip(names, effects.effects.tolist(), strict=True))


def value_removal_effects(paths: pl.DataFrame) -> tuple[float, dict[str, float]]:
    """Expected conversion value from start and each channel's value removal effect."""
    names, effects = _effects(paths)
    return effects.value, dict(zip(names, effects.value_effects.tolist(), strict=True))


def credits(effects: np.ndarray, *, total: float) -> np.ndarray:
    """Credits proportional to the removal effects, adding up to `total` (zeros when none)."""
    share = effects.sum()
    if share <= 0 or total == 0:
        return np.zeros_like(effects)
    return effects / share * total


def _effects(paths: pl.DataFrame) -> tuple[list[str], ChainEffects]:
    """Channel names (sorted) and the chain's effects for a frame of channels/conversions/value/nulls."""
    flat = paths.get_column("channels").explode()
    names = flat.unique().sort().to_list()
    codes = flat.cast(pl.Enum(names)).to_physical().to_numpy()
    lengths = paths.get_column("channels").list.len().to_numpy().astype(np.int64)
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    transitions, converted, lost, earned = transition_counts(
        codes=codes,
        offsets=offsets,
        lengths=lengths,
        conversions=paths.get_column("conversions").to_numpy(),
        value=paths.get_column("value").to_numpy(),
        nulls=paths.get_column("nulls").to_numpy(),
        channels=len(names),
    )
    return names, chain_effects(
        transitions=transitions, converted=converted, lost=lost, value=earned
    )
