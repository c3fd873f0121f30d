"""The driver-analysis result: shares, ranks, intervals, quadrant and priority list.

Input is the per-chunk sufficient statistics of ``(driver_1 … driver_p, outcome)`` (see
``sufficient``); nothing here needs the rows. Importance is each driver's exact Shapley
share of R² (``p ≤ 15``) or Johnson's relative weight (more drivers). Intervals are
percentile intervals over bootstrap resamples of the chunks (``bootstrap``).

Importance × performance: importance is the share of R²; performance is the driver's mean
rating rescaled to 0–100 on its declared scale. The split lines are the equal share
(1/p) and the mean performance across drivers.

Priority ("the most change in the fewest moves"): the expected outcome gain if the
driver's mean rose to the top of its scale, ``max(b_j, 0) · (scale_max − mean_j)`` with
``b_j`` the driver's coefficient in the full linear model (outcome units per rating
point). Drivers are listed by that gain with the cumulative gain of fixing the first
``k``. It is a linear, ceteris-paribus projection, not a causal promise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.stats.drivers.bootstrap import (
    MIN_CHUNKS_FOR_INTERVALS,
    chunk_resample_weights,
    percentile_interval,
)
from analytics.stats.drivers.relative_weights import relative_weights
from analytics.stats.drivers.shapley import MAX_EXACT_DRIVERS, shapley_values
from analytics.stats.drivers.sufficient import ChunkMoments, MergedMoments

FloatArray = NDArray[np.float64]
BOOTSTRAP_BATCH = 250


@dataclass(frozen=True)
class DriverSpec:
    """A declared rating driver: its slug, label and scale."""

    slug: str
    label: str
    scale_min: float
    scale_max: float


class NotEnoughData(ValueError):
    """The data cannot support the analysis (too few rows, no variance)."""


def _nearest_correlation(corr: FloatArray) -> tuple[FloatArray, bool]:
    """Clip negative eigenvalues (possible with pairwise deletion) and rescale to unit diagonal."""
    eigenvalues, eigenvectors = np.linalg.eigh(corr)
    if eigenvalues.min() >= 0:
        return corr, False
    clipped = np.clip(eigenvalues, 1e-10, None)
    fixed = (eigenvectors * clipped) @ eigenvectors.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d), True


def _decompose(corr: FloatArray, method: str) -> FloatArray:
    return shapley_values(corr) if method == "shapley" else relative_weights(corr)


def _coefficients(corr: FloatArray, sd: FloatArray) -> FloatArray:
    """Raw-unit coefficients of the full model, ``(..., p)``."""
    p = corr.shape[-1] - 1
    r_xx = corr[..., :p, :p]
    r_xy = corr[..., :p, p]
    beta_std = (np.linalg.pinv(r_xx) @ r_xy[..., :, None])[..., 0]
    return beta_std * sd[..., p, None] / sd[..., :p]


def _batch_statistics(
    merged: MergedMoments, method: str, specs: Sequence[DriverSpec]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Importances, coefficients, gains and means for a batch of merged moments."""
    corr, sd = merged.correlation()
    p = corr.shape[-1] - 1
    valid: NDArray[np.bool_] = np.asarray(np.isfinite(corr).reshape(corr.shape[0], -1).all(axis=1))
    corr = np.where(valid[:, None, None], corr, np.eye(p + 1))
    sd = np.where(valid[:, None], sd, 1.0)
    importance = _decompose(corr, method)
    coefficient = _coefficients(corr, sd)
    means = merged.means()[:, :p]
    scale_max = np.array([s.scale_max for s in specs])
    gain = np.maximum(coefficient, 0.0) * np.maximum(scale_max - means, 0.0)
    nan = np.full_like(importance, np.nan)
    return (
        np.where(valid[:, None], importance, nan),
        np.where(valid[:, None], coefficient, nan),
        np.where(valid[:, None], gain, nan),
        means,
    )


def _bootstrap_batch(p: int, method: str) -> int:
    """Resamples per batch, keeping the subset recursion's working set near 80 MB."""
    if method != "shapley":
        return BOOTSTRAP_BATCH
    floats_per_resample = sum(2**m * (p + 1 - m) ** 2 for m in range(p))
    return max(1, min(BOOTSTRAP_BATCH, 10_000_000 // floats_per_resample))


def _ranks(values: FloatArray) -> FloatArray:
    """Rank 1 = largest, along the last axis."""
    order = np.argsort(-values, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, values.shape[-1] + 1), axis=-1)
    return ranks.astype(float)


def _interval(low: FloatArray, high: FloatArray, j: int, digits: int = 6) -> list[float] | None:
    if not (np.isfinite(low[j]) and np.isfinite(high[j])):
        return None
    return [round(float(low[j]), digits), round(float(high[j]), digits)]


def drivers_analyse(
    moments: ChunkMoments,
    specs: Sequence[DriverSpec],
    *,
    outcome: str,
    missing: str = "listwise",
    method: str = "auto",
    replicates: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_rows: int = 30,
) -> dict[str, Any]:
    """Full driver analysis as a JSON-ready dict (see the module docstring)."""
    p = len(specs)
    if p < 1:
        raise NotEnoughData("No rating drivers are declared.")
    if moments.n_variables != p + 1:
        raise ValueError("Moments must cover every driver plus the outcome (last).")
    if method == "auto":
        method = "shapley" if p <= MAX_EXACT_DRIVERS else "relative_weights"
    if method not in ("shapley", "relative_weights"):
        raise ValueError("method must be 'auto', 'shapley' or 'relative_weights'.")
    if method == "shapley" and p > MAX_EXACT_DRIVERS:
        raise ValueError(f"Exact Shapley is limited to {MAX_EXACT_DRIVERS} drivers.")

    merged = moments.merged()
    pair_n = merged.pair_n
    n_rows = int(pair_n.min()) if moments.n_chunks else 0
    if n_rows < max(min_rows, p + 2):
        raise NotEnoughData(
            f"Not enough responses: {n_rows} with the outcome and ratings "
            f"({missing} deletion); at least {max(min_rows, p + 2)} are needed."
        )
    corr, sd = merged.correlation()
    if not np.all(np.isfinite(corr)) or np.any(sd == 0):
        constant = [(specs[j].slug if j < p else outcome) for j in range(p + 1) if not sd[j] > 0]
        raise NotEnoughData(
            "No variation in: " + ", ".join(constant) + "; shares cannot be computed."
        )
    corr, adjusted = _nearest_correlation(corr)
    importance = _decompose(corr, method)
    r2 = float(importance.sum())
    coefficient = _coefficients(corr, sd)
    means = merged.means()[:p]
    scale_min = np.array([s.scale_min for s in specs], dtype=float)
    scale_max = np.array([s.scale_max for s in specs], dtype=float)
    performance = (means - scale_min) / (scale_max - scale_min) * 100.0
    gain = np.maximum(coefficient, 0.0) * np.maximum(scale_max - means, 0.0)
    shares = importance / r2 if r2 > 0 else np.full(p, np.nan)
    ranks = _ranks(importance)

    rng = np.random.default_rng(seed)
    n_chunks = moments.n_chunks
    intervals_ok = replicates > 0 and n_chunks >= MIN_CHUNKS_FOR_INTERVALS
    boot: dict[str, FloatArray] = {}
    if intervals_ok:
        collected: dict[str, list[FloatArray]] = {"imp": [], "coef": [], "gain": [], "perf": []}
        remaining = replicates
        batch = _bootstrap_batch(p, method)
        while remaining > 0:
            size = min(batch, remaining)
            remaining -= size
            weights = chunk_resample_weights(n_chunks, size, rng)
            imp_b, coef_b, gain_b, means_b = _batch_statistics(
                moments.resampled(weights), method, specs
            )
            collected["imp"].append(imp_b)
            collected["coef"].append(coef_b)
            collected["gain"].append(gain_b)
            collected["perf"].append((means_b - scale_min) / (scale_max - scale_min) * 100.0)
        boot = {key: np.concatenate(parts) for key, parts in collected.items()}
        imp = boot["imp"]
        r2_b = imp.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot["share"] = imp / r2_b[:, None]
        boot["rank"] = np.where(np.isnan(imp), np.nan, _ranks(np.nan_to_num(imp, nan=-1.0)))
        boot["r2"] = r2_b[:, None]

    bounds: dict[str, tuple[FloatArray, FloatArray]] = {}

    def interval(key: str, j: int, digits: int = 6) -> list[float] | None:
        if not boot:
            return None
        if key not in bounds:
            bounds[key] = percentile_interval(boot[key], level)
        low, high = bounds[key]
        return _interval(low, high, j, digits)

    importance_split = 1.0 / p
    performance_split = float(np.mean(performance))
    drivers: list[dict[str, Any]] = []
    for j, spec in enumerate(specs):
        high_importance = shares[j] >= importance_split
        high_performance = performance[j] >= performance_split
        quadrant = (
            ("strength" if high_performance else "fix_first")
            if high_importance
            else ("maintain" if high_performance else "monitor")
        )
        drivers.append(
            {
                "slug": spec.slug,
                "label": spec.label,
                "importance": round(float(importance[j]), 10),
                "importance_interval": interval("imp", j, 10),
                "share": round(float(shares[j]), 10),
                "share_interval": interval("share", j, 10),
                "rank": int(ranks[j]),
                "rank_interval": [int(x) for x in interval("rank", j, 0) or []] or None,
                "n": int(merged.pair_n[j, p]),
                "mean": round(float(means[j]), 6),
                "performance": round(float(performance[j]), 4),
                "performance_interval": interval("perf", j, 4),
                "coefficient": round(float(coefficient[j]), 8),
                "coefficient_interval": interval("coef", j, 8),
                "gain": round(float(gain[j]), 6),
                "gain_interval": interval("gain", j, 6),
                "quadrant": quadrant,
                "scale": [spec.scale_min, spec.scale_max],
            }
        )
    drivers.sort(key=lambda d: d["rank"])

    priority = []
    cumulative = 0.0
    for d in sorted(drivers, key=lambda d: (-d["gain"], d["rank"])):
        if d["gain"] <= 0:
            continue
        cumulative += d["gain"]
        priority.append(
            {
                "slug": d["slug"],
                "label": d["label"],
                "gain": d["gain"],
                "gain_interval": d["gain_interval"],
                "cumulative_gain": round(cumulative, 6),
                "quadrant": d["quadrant"],
                "share": d["share"],
                "performance": d["performance"],
            }
        )

    notes = []
    if adjusted:
        notes.append(
            "Pairwise correlations were not positive semi-definite; the nearest valid "
            "correlation matrix was used."
        )
    if not intervals_ok:
        notes.append(
            f"No intervals: {n_chunks} chunks of responses is below the "
            f"{MIN_CHUNKS_FOR_INTERVALS} needed for a chunk bootstrap."
        )
    return {
        "outcome": outcome,
        "method": method,
        "method_label": "Exact Shapley (LMG) decomposition of R²"
        if method == "shapley"
        else "Johnson's relative weights",
        "missing": missing,
        "missing_label": "listwise: only responses with the outcome and every rating"
        if missing == "listwise"
        else "pairwise: each correlation from the responses having both values",
        "n": n_rows,
        "r2": round(r2, 10),
        "r2_interval": interval("r2", 0, 10),
        "bootstrap": {
            "replicates": replicates if intervals_ok else 0,
            "chunks": n_chunks,
            "level": level,
            "seed": seed,
            "method": "percentile intervals from resampling per-chunk sufficient statistics "
            "(rows split into chunks by id; chunks are iid groups)",
        },
        "drivers": drivers,
        "quadrant": {
            "importance_split": round(importance_split, 10),
            "performance_split": round(performance_split, 4),
            "labels": {
                "fix_first": "High importance, low performance: fix first",
                "strength": "High importance, high performance: keep it strong",
                "maintain": "Low importance, high performance: maintain, do not overinvest",
                "monitor": "Low importance, low performance: monitor",
            },
        },
        "priority": priority,
        "priority_basis": "expected outcome gain if the driver's mean rose to the top of its "
        "scale: max(coefficient, 0) × (scale max − mean), outcome units",
        "notes": notes,
    }
