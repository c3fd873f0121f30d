"""Sufficient statistics for correlations, per chunk of rows, merged by addition.

For variables ``v = (x_1 … x_p, y)`` and a chunk of rows, four ``v × v`` matrices are kept,
where ``m_i`` is 1 when variable ``i`` is present in a row and ``x_i`` is taken as 0 when
missing:

- ``pair_n[i, j]   = Σ m_i m_j``          rows where both are present
- ``pair_sum[i, j] = Σ m_i m_j x_i``      sum of ``x_i`` over those rows
- ``pair_sq[i, j]  = Σ m_i m_j x_i²``
- ``cross[i, j]    = Σ x_i x_j``          (zero whenever either is missing)

They give the exact pairwise-complete Pearson correlation matrix (as ``pandas.corr``), and
for listwise deletion (rows with every variable present) they reduce to ``n``, the column
sums and the cross-product matrix. All four are sums over rows, so statistics of chunks
computed by different workers (or by ``GROUP BY id % K`` in SQL) merge by adding them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Missing = Literal["listwise", "pairwise"]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChunkMoments:
    """Moments of ``K`` chunks: each array has shape ``(K, v, v)``."""

    pair_n: FloatArray
    pair_sum: FloatArray
    pair_sq: FloatArray
    cross: FloatArray

    @property
    def n_chunks(self) -> int:
        return int(self.pair_n.shape[0])

    @property
    def n_variables(self) -> int:
        return int(self.pair_n.shape[-1])

    def stacked(self) -> FloatArray:
        """``(K, 4·v·v)``: one row per chunk, for weighted merging."""
        k = self.n_chunks
        return np.concatenate(
            [a.reshape(k, -1) for a in (self.pair_n, self.pair_sum, self.pair_sq, self.cross)],
            axis=1,
        )

    def merged(self) -> MergedMoments:
        return MergedMoments(
            self.pair_n.sum(0), self.pair_sum.sum(0), self.pair_sq.sum(0), self.cross.sum(0)
        )

    def resampled(self, chunk_weights: FloatArray) -> MergedMoments:
        """Moments of ``B`` resamples: ``chunk_weights`` is ``(B, K)`` (counts per chunk)."""
        v = self.n_variables
        merged = np.asarray(chunk_weights, dtype=float) @ self.stacked()
        parts = merged.reshape(merged.shape[0], 4, v, v)
        return MergedMoments(parts[:, 0], parts[:, 1], parts[:, 2], parts[:, 3])

    def without_empty_chunks(self) -> ChunkMoments:
        keep = self.pair_n.reshape(self.n_chunks, -1).max(axis=1) > 0
        return ChunkMoments(
            self.pair_n[keep], self.pair_sum[keep], self.pair_sq[keep], self.cross[keep]
        )


@dataclass(frozen=True)
class MergedMoments:
    """Moments summed over chunks; arrays are ``(..., v, v)`` (a leading batch is allowed)."""

    pair_n: FloatArray
    pair_sum: FloatArray
    pair_sq: FloatArray
    cross: FloatArray

    def means(self) -> FloatArray:
        """Mean of each variable over the rows where it is present: ``(..., v)``."""
        n = np.diagonal(self.pair_n, axis1=-2, axis2=-1)
        s = np.diagonal(self.pair_sum, axis1=-2, axis2=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return s / n

    def correlation(self) -> tuple[FloatArray, FloatArray]:
        """Pairwise-complete Pearson correlations ``(..., v, v)`` and standard deviations."""
        n = self.pair_n
        s_ij = self.pair_sum
        s_ji = np.swapaxes(self.pair_sum, -1, -2)
        q_ij = self.pair_sq
        q_ji = np.swapaxes(self.pair_sq, -1, -2)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = self.cross - s_ij * s_ji / n
            var_i = q_ij - s_ij**2 / n
            var_j = q_ji - s_ji**2 / n
            corr = cov / np.sqrt(var_i * var_j)
            diag_n = np.diagonal(n, axis1=-2, axis2=-1)
            diag_var = np.diagonal(var_i, axis1=-2, axis2=-1)
            sd = np.sqrt(diag_var / (diag_n - 1))
        v = n.shape[-1]
        eye = np.eye(v, dtype=bool)
        corr = np.where(eye, 1.0, corr)
        return corr, sd


def moments_from_arrays(
    values: FloatArray,
    *,
    chunk_ids: NDArray[np.integer] | None = None,
    n_chunks: int = 256,
    missing: Missing = "listwise",
) -> ChunkMoments:
    """Chunk moments of ``values`` (rows × variables, NaN = missing), rows split by chunk id.

    With ``missing="listwise"`` rows with any missing value are dropped first, so every
    statistic is over complete rows. ``chunk_ids`` defaults to ``row index % n_chunks``.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise ValueError("values must be a 2-d array (rows × variables).")
    ids = np.arange(x.shape[0]) if chunk_ids is None else np.asarray(chunk_ids)
    chunk = ids % n_chunks
    present = ~np.isnan(x)
    if missing == "listwise":
        complete = present.all(axis=1)
        x, present, chunk = x[complete], present[complete], chunk[complete]
    elif missing != "pairwise":
        raise ValueError("missing must be 'listwise' or 'pairwise'.")
    m = present.astype(float)
    x0 = np.where(present, x, 0.0)
    v = x.shape[1]
    out = np.zeros((4, n_chunks, v, v))
    order = np.argsort(chunk, kind="stable")
    bounds = np.searchsorted(chunk[order], np.arange(n_chunks + 1))
    for c in range(n_chunks):
        rows = order[bounds[c] : bounds[c + 1]]
        if rows.size == 0:
            continue
        mc, xc = m[rows], x0[rows]
        out[0, c] = mc.T @ mc
        out[1, c] = xc.T @ mc
        out[2, c] = (xc * xc).T @ mc
        out[3, c] = xc.T @ xc
    return ChunkMoments(out[0], out[1], out[2], out[3]).without_empty_chunks()
