"""Intervals: one percentile bootstrap for every figure the product shows with its
uncertainty (scores, NPS impacts, evaluation metrics), and Wilson's interval for shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import numpy as np
from pydantic import BaseModel

T = TypeVar("T")
RESAMPLES = 1000
SEED = 7
LEVEL = 0.95


class Interval(BaseModel):
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None  # how many items (records, units, pairs) it rests on, where counted


BLOCK_CELLS = 2_000_000  # indices held at once: a bootstrap of 200,000 items stays a few MiB


def resamples(n_items: int, n: int = RESAMPLES, seed: int | np.random.Generator = SEED) -> np.ndarray:
    """(n, n_items) indices: each row one bootstrap resample of the items."""
    return np.vstack(list(resample_blocks(n_items, n, seed)))


def resample_blocks(n_items: int, n: int = RESAMPLES, seed: int | np.random.Generator = SEED) -> Iterator[np.ndarray]:
    """The same resamples as `resamples`, a block of rows at a time, so that memory stays
    bounded however many items there are (the generator yields the very same numbers)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rows = max(1, BLOCK_CELLS // max(1, n_items))
    for start in range(0, n, rows):
        yield rng.integers(0, n_items, size=(min(rows, n - start), n_items))


def percentiles(replicates: Sequence[float] | np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    values = np.asarray(replicates, dtype=float)
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def bootstrap(metric: Callable[[list[T]], float | None], items: list[T], n: int = RESAMPLES,
              seed: int = SEED, level: float = LEVEL) -> Interval:
    """The metric on the items, with a percentile interval from resampling the items (units,
    not mentions: the units are what was sampled). Resamples where the metric is undefined
    are left out."""
    if not items:
        return Interval(value=None, n=0)
    value = metric(items)
    if value is None:
        return Interval(value=None, n=len(items))
    replicates = [v for block in resample_blocks(len(items), n, seed) for row in block
                  if (v := metric([items[i] for i in row])) is not None]
    if not replicates:
        return Interval(value=value, n=len(items))
    low, high = percentiles(replicates, level)
    return Interval(value=value, low=low, high=high, n=len(items))


def bootstrap_mean(values: np.ndarray, rng: np.random.Generator, digits: int = 3) -> Interval:
    """The mean with its bootstrap interval, vectorized: the same resampling, for the scores
    of thousands of mentions."""
    if len(values) == 0:
        return Interval(value=None)
    mean = float(values.mean())
    if len(values) == 1:
        return Interval(value=round(mean, digits))
    low, high = percentiles(np.concatenate([values[idx].mean(axis=1) for idx in resample_blocks(len(values), RESAMPLES, rng)]))
    return Interval(value=round(mean, digits), low=round(low, digits), high=round(high, digits))


def bootstrap_difference(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, n: int = RESAMPLES,
                         digits: int = 3) -> Interval:
    """mean(b) - mean(a), with a percentile interval from resampling each group on its own:
    two periods, two personas, or a touchpoint's mentioners against the rest."""
    after = np.concatenate([b[idx].mean(axis=1) for idx in resample_blocks(len(b), n, rng)])
    before = np.concatenate([a[idx].mean(axis=1) for idx in resample_blocks(len(a), n, rng)])
    low, high = percentiles(after - before)
    return Interval(value=round(float(b.mean() - a.mean()), digits), low=round(low, digits), high=round(high, digits),
                    n=len(a) + len(b))


def excludes_zero(interval: Interval) -> bool:
    """A difference the interval says is real: both ends on the same side of 0."""
    return interval.low is not None and interval.high is not None and (interval.low > 0 or interval.high < 0)


def wilson(successes: int, n: int, z: float = 1.96) -> Interval:
    if n == 0:
        return Interval(value=None)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(value=round(p, 3), low=round(max(0.0, centre - half), 3), high=round(min(1.0, centre + half), 3), n=n)
