"""Exact Shapley (LMG) decomposition of R² from a correlation matrix.

The Shapley value of driver ``j`` is its marginal R² gain averaged over all orders in
which drivers enter the regression (Lindeman, Merenda & Gold 1980; Grömping 2007):

    φ_j = Σ_{S ⊆ D∖{j}} |S|! (p − |S| − 1)! / p! · (R²(S ∪ {j}) − R²(S))

so it needs R² of all 2^p subsets. R² of a subset depends only on the correlation matrix,
so one pass over the data (or merged per-chunk sufficient statistics) is enough.

All subset R² values come from one sweep recursion, vectorised by "largest driver in the
subset": with the outcome stored last, the residual correlation matrix of a subset ``S``
(after regressing everything on ``S``) is only ever needed for drivers after ``max(S)`` and
the outcome — a trailing block. Adding driver ``m`` to every subset of ``{0 … m−1}`` at once
is one Schur-complement update on a stack of those blocks:

    child = block[1:, 1:] − block[1:, 0] block[0, 1:] / block[0, 0]

and R²(S ∪ {m}) = 1 − child[y, y] / var(y). The total work is Σ_m 2^m (p + 1 − m)² floats
(about 45 000 for 12 drivers), done in ``p`` NumPy operations, for a whole batch of
correlation matrices (bootstrap resamples) at once. Shapley values are then one matrix
product of the R² vector with the fixed Shapley weight matrix.

A driver that is an exact linear combination of drivers already in a subset (pivot below
``1e-12`` of its variance) adds nothing to that subset's R², as with a pseudo-inverse.
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
MAX_EXACT_DRIVERS = 15
_PIVOT_TOLERANCE = 1e-12


def r2_all_subsets(matrix: FloatArray) -> FloatArray:
    """R² of the outcome (last variable) on every subset of the drivers.

    ``matrix`` is a correlation (or covariance) matrix of shape ``(..., p + 1, p + 1)`` with
    the outcome last. Returns ``(..., 2^p)``; entry ``mask`` is the R² of the drivers whose
    bits are set in ``mask`` (bit ``j`` = driver ``j``).
    """
    c = np.asarray(matrix, dtype=float)
    batch_shape = c.shape[:-2]
    v = c.shape[-1]
    p = v - 1
    if p < 1:
        raise ValueError("Need at least one driver.")
    if p > 22:
        raise ValueError("Exact subset enumeration is limited to 22 drivers.")
    c = c.reshape(-1, v, v)
    batch = c.shape[0]
    var_y = c[:, p, p]
    variances = np.diagonal(c, axis1=1, axis2=2)
    r2 = np.empty((batch, 2**p))
    r2[:, 0] = 0.0
    # blocks[a + 1]: residual blocks of the subsets whose largest driver is a (a = -1: {}),
    # shape (batch, 2^max(a, 0) or 1, p − a, p − a) covering variables a + 1 … p.
    blocks: list[FloatArray] = [c[:, None, :, :]]
    for m in range(p):
        parents = np.concatenate(
            [blocks[a + 1][:, :, m - a - 1 :, m - a - 1 :] for a in range(-1, m)], axis=1
        )
        pivot = parents[:, :, 0, 0]
        column = parents[:, :, 1:, 0]
        usable = pivot > _PIVOT_TOLERANCE * variances[:, m, None]
        scale = np.where(usable, 1.0 / np.where(usable, pivot, 1.0), 0.0)
        child = (
            parents[:, :, 1:, 1:]
            - (column[:, :, :, None] * column[:, :, None, :]) * scale[:, :, None, None]
        )
        blocks.append(child)
        r2[:, 2**m : 2 ** (m + 1)] = 1.0 - child[:, :, -1, -1] / var_y[:, None]
    return r2.reshape((*batch_shape, 2**p))


@lru_cache(maxsize=32)
def shapley_weight_matrix(p: int) -> FloatArray:
    """``(2^p, p)`` matrix ``W`` with ``φ = R²_all_subsets @ W``.

    ``W[S, j] = w(|S| − 1)`` when ``j ∈ S`` and ``−w(|S|)`` when not, with
    ``w(s) = s! (p − s − 1)! / p!``.
    """
    masks = np.arange(2**p)
    sizes = np.array([bin(mask).count("1") for mask in range(2**p)])
    w = np.array([factorial(s) * factorial(p - s - 1) / factorial(p) for s in range(p)] + [0.0])
    weights = np.empty((2**p, p))
    for j in range(p):
        has_j = (masks >> j) & 1 == 1
        weights[:, j] = np.where(has_j, w[np.maximum(sizes - 1, 0)], -w[sizes])
    weights.setflags(write=False)
    return weights


def shapley_values(matrix: FloatArray) -> FloatArray:
    """Exact Shapley/LMG R² contributions ``(..., p)`` from ``(..., p + 1, p + 1)`` matrices.

    The contributions add up to the full-model R².
    """
    r2 = r2_all_subsets(matrix)
    p = np.asarray(matrix).shape[-1] - 1
    return r2 @ shapley_weight_matrix(p)


def shapley_from_data(drivers: FloatArray, outcome: FloatArray) -> FloatArray:
    """Exact Shapley/LMG R² contributions for in-memory data (rows × drivers, outcome).

    Equals ``pingouin.linear_regression(X, y, relimp=True)["relimp"]`` (without the
    intercept row). Rows with a missing value are dropped (listwise).
    """
    x = np.asarray(drivers, dtype=float)
    y = np.asarray(outcome, dtype=float).reshape(-1, 1)
    data = np.hstack([x, y])
    data = data[~np.isnan(data).any(axis=1)]
    corr = np.corrcoef(data, rowvar=False)
    return shapley_values(corr)
