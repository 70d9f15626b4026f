"""Random helpers shared by the demo generators: weighted picks, dates with growth, delays."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from tandem.demo.data import TRANSLITERATE

T = TypeVar("T")

# UTC hours in which each sales team's market works (their local office hours).
BUSINESS_HOURS_UTC: dict[str | None, tuple[int, int]] = {
    "americas": (13, 23),
    "emea": (7, 17),
    None: (8, 20),
}


class Weighted(Generic[T]):
    """A fixed weighted choice, picked with one random number (bisect on cumulative weights)."""

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items = list(pairs)
        self.values = [value for value, _ in items]
        self.cumulative = list(itertools.accumulate(weight for _, weight in items))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        """One value, with probability proportional to its weight."""
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def growth_fraction(rng: random.Random, growth: float) -> float:
    """A point in [0, 1) whose density rises linearly (growth 0.6: the end 1.6 times the start).

    Intuition: inverse-transform sampling of the density 1 + growth·x.
    """
    u = rng.random()
    if growth == 0:
        return u
    return (-1 + math.sqrt(1 + 2 * growth * u * (1 + growth / 2))) / growth


def sample_day(rng: random.Random, start: datetime, end: datetime, *, growth: float) -> datetime:
    """Midnight of a day in [start, end), later days likelier, weekends a third as busy."""
    days = max(1, (end - start).days)
    while True:
        day = start + timedelta(days=min(days - 1, int(growth_fraction(rng, growth) * days)))
        if day.weekday() < 5 or rng.random() < 0.35:
            return day


def at_business_time(rng: random.Random, day: datetime, team: str | None) -> datetime:
    """A moment during the office hours (in UTC) of the team's market on that day."""
    first, last = BUSINESS_HOURS_UTC.get(team, BUSINESS_HOURS_UTC[None])
    midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(hours=rng.uniform(first, last))


def delay(
    rng: random.Random,
    after: datetime,
    *,
    mean_days: float,
    team: str | None,
    min_hours: float = 1.0,
) -> datetime:
    """A moment some days after `after` (gamma-distributed, hump-shaped), in office hours."""
    days = rng.gammavariate(2.0, mean_days / 2.0)
    moment = after + timedelta(days=days)
    if moment.weekday() >= 5:
        moment += timedelta(days=7 - moment.weekday())
    moment = at_business_time(rng, moment, team)
    return max(moment, after + timedelta(hours=min_hours))


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A uniform moment in [start, end]."""
    return start + (end - start) * rng.random()


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and hyphens only ("Zoë O'Brien-Łukasz" → "zoeobrien-lukasz")."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(TRANSLITERATE))
    ascii_text = folded.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "", ascii_text)
