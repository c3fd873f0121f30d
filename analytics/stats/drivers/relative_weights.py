"""Johnson's relative weights: an approximation of Shapley R² shares for many drivers.

Johnson (2000), "A heuristic method for estimating the relative weight of predictor
variables in multiple regression". With ``R = V Λ Vᵀ`` the drivers' correlation matrix,
``Λ* = V Λ^{1/2} Vᵀ`` relates the drivers to their closest orthogonal counterparts ``Z``;
the outcome is regressed on ``Z`` (``β = Λ*⁻¹ r_xy``) and driver ``j`` gets
``ε_j = Σ_k Λ*_{jk}² β_k²``. The weights add up to the full-model R² and cost one
eigen-decomposition, so they serve when 2^p subsets are too many.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def relative_weights(matrix: FloatArray) -> FloatArray:
    """Raw relative weights ``(..., p)`` from correlation matrices ``(..., p + 1, p + 1)``.

    The outcome is the last variable. Near-singular driver sets are handled by clipping
    tiny eigenvalues (their directions carry no weight).
    """
    c = np.asarray(matrix, dtype=float)
    p = c.shape[-1] - 1
    sd = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    corr = c / (sd[..., :, None] * sd[..., None, :])
    r_xx = corr[..., :p, :p]
    r_xy = corr[..., :p, p]
    eigenvalues, eigenvectors = np.linalg.eigh(r_xx)
    keep = eigenvalues > 1e-12 * np.max(eigenvalues, axis=-1, keepdims=True)
    root = np.sqrt(np.where(keep, eigenvalues, 0.0))
    inverse_root = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    lam = eigenvectors @ (root[..., :, None] * np.swapaxes(eigenvectors, -1, -2))
    lam_inv = eigenvectors @ (inverse_root[..., :, None] * np.swapaxes(eigenvectors, -1, -2))
    beta = (lam_inv @ r_xy[..., :, None])[..., 0]
    return (lam**2 @ (beta**2)[..., :, None])[..., 0]
