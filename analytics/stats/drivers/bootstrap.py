"""Bootstrap by resampling chunks of rows instead of rows.

Rows are assigned to ``K`` chunks by ``id % K``; ids carry no information about answers, so
the chunks are independent, identically distributed groups of rows. Drawing ``K`` chunks
with replacement and adding their sufficient statistics is a cluster (block) bootstrap
that never needs the rows again: a resample is a weighted sum of the ``K`` chunk moments.
With one row per chunk it is the ordinary row bootstrap.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
MIN_CHUNKS_FOR_INTERVALS = 20


def chunk_resample_weights(n_chunks: int, replicates: int, rng: np.random.Generator) -> FloatArray:
    """``(replicates, n_chunks)`` multinomial counts: how often each chunk is drawn."""
    if n_chunks < 1:
        raise ValueError("Need at least one chunk to resample.")
    probabilities = np.full(n_chunks, 1.0 / n_chunks)
    return rng.multinomial(n_chunks, probabilities, size=replicates).astype(float)


def percentile_interval(draws: FloatArray, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Percentile interval over the first axis, ignoring replicates that are NaN."""
    tail = (1.0 - level) / 2.0 * 100.0
    percentile = np.nanpercentile if np.isnan(draws).any() else np.percentile
    low = percentile(draws, tail, axis=0)
    high = percentile(draws, 100.0 - tail, axis=0)
    return np.asarray(low), np.asarray(high)
