"""Driver analysis: exact Shapley equals pingouin, planted weights are recovered, SQL
sufficient statistics equal NumPy's, intervals cover the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analytics.insights.selectors import driver_moments_fetch
from analytics.insights.services import driver_analysis_from_database, drivers_parameters_clean
from analytics.stats.drivers.analysis import DriverSpec, NotEnoughData, drivers_analyse
from analytics.stats.drivers.relative_weights import relative_weights
from analytics.stats.drivers.shapley import r2_all_subsets, shapley_from_data, shapley_values
from analytics.stats.drivers.sufficient import moments_from_arrays
from cxhub.errors import InvalidInput
from tests.analytics.insights.data import store_responses
from tests.feedback.factories import AttributeFactory


def _correlated_data(
    rng: np.random.Generator, n: int, p: int, strength: float
) -> tuple[np.ndarray, np.ndarray]:
    mixing = np.eye(p) + strength * rng.normal(size=(p, p))
    x = rng.normal(size=(n, p)) @ mixing
    y = x @ rng.normal(size=p) + rng.normal(scale=2.0, size=n)
    return x, y


@pytest.mark.parametrize(
    ("seed", "p", "strength"),
    [(1, 2, 0.0), (2, 4, 0.3), (3, 6, 0.8), (4, 8, 1.5), (5, 9, 0.6)],
)
def test_exact_shapley_equals_pingouin_relimp(seed: int, p: int, strength: float) -> None:
    """The LMG shares equal pingouin.linear_regression(relimp=True) to 1e-9, also for strongly
    correlated drivers."""
    rng = np.random.default_rng(seed)
    x, y = _correlated_data(rng, 500, p, strength)
    reference = pg.linear_regression(
        pd.DataFrame(x, columns=[f"x{i}" for i in range(p)]), y, relimp=True
    )
    expected = reference["relimp"].to_numpy()[1:]
    got = shapley_from_data(x, y)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert got.sum() == pytest.approx(reference["r2"].iloc[0], abs=1e-9)


def test_subset_r2_equals_least_squares_for_every_subset() -> None:
    """Each subset's R² equals an ordinary least-squares fit on those drivers."""
    rng = np.random.default_rng(7)
    x, y = _correlated_data(rng, 300, 5, 0.7)
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    r2 = r2_all_subsets(corr)
    for mask in range(1, 32):
        cols = [j for j in range(5) if mask >> j & 1]
        design = np.column_stack([np.ones(len(y)), x[:, cols]])
        fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
        expected = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        assert r2[mask] == pytest.approx(expected, abs=1e-10)


def test_a_duplicated_driver_splits_its_share_and_nothing_breaks() -> None:
    """Two identical drivers (singular matrix) get equal shares and R² is unchanged."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 2))
    y = 2 * x[:, 0] + x[:, 1] + rng.normal(size=400)
    shares = shapley_from_data(np.column_stack([x[:, 0], x[:, 0], x[:, 1]]), y)
    assert np.all(np.isfinite(shares))
    assert shares[0] == pytest.approx(shares[1], abs=1e-9)
    single = shapley_from_data(x, y)
    assert shares.sum() == pytest.approx(single.sum(), abs=1e-9)


def test_relative_weights_match_johnsons_orthogonal_regression() -> None:
    """Relative weights equal Johnson's original SVD construction on the data, and are
    the squared correlations when drivers are uncorrelated."""
    rng = np.random.default_rng(11)
    x, y = _correlated_data(rng, 800, 6, 0.6)
    xs = (x - x.mean(0)) / x.std(0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(xs, full_matrices=False)
    z = np.sqrt(len(xs) - 1) * u @ vt  # standardised orthogonal counterparts of the drivers
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    lam = np.linalg.lstsq(z, xs, rcond=None)[0]  # Λ: drivers regressed on Z
    expected = (lam.T**2) @ (beta**2)
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    np.testing.assert_allclose(relative_weights(corr), expected, atol=1e-9)

    q, _ = np.linalg.qr(rng.normal(size=(500, 3)))
    orthogonal = (q - q.mean(0)) * 10
    target = orthogonal @ np.array([3.0, 2.0, 1.0]) + rng.normal(size=500)
    corr = np.corrcoef(np.column_stack([orthogonal, target]), rowvar=False)
    np.testing.assert_allclose(relative_weights(corr), corr[:3, 3] ** 2, atol=1e-3)
    np.testing.assert_allclose(relative_weights(corr), shapley_values(corr), atol=1e-3)


def test_chunk_moments_give_numpy_and_pandas_correlations() -> None:
    """Merged chunk statistics reproduce np.corrcoef (listwise) and pandas pairwise corr."""
    rng = np.random.default_rng(5)
    data = rng.normal(size=(1000, 4))
    data[:, 1] += data[:, 0]
    data[rng.random(size=data.shape) < 0.15] = np.nan
    pairwise, _ = moments_from_arrays(data, n_chunks=37, missing="pairwise").merged().correlation()
    np.testing.assert_allclose(pairwise, pd.DataFrame(data).corr().to_numpy(), atol=1e-12)
    listwise, _ = moments_from_arrays(data, n_chunks=37, missing="listwise").merged().correlation()
    complete = data[~np.isnan(data).any(axis=1)]
    np.testing.assert_allclose(listwise, np.corrcoef(complete, rowvar=False), atol=1e-12)


def _planted_ratings(rng: np.random.Generator, n: int, weights: list[float]) -> list[dict]:
    """Independent 1–5 ratings; NPS = rounded weighted sum + noise, clipped to 0–10."""
    p = len(weights)
    ratings = rng.integers(1, 6, size=(n, p))
    latent = 1.0 + ratings @ np.array(weights) + rng.normal(scale=1.0, size=n)
    nps = np.clip(np.rint(latent), 0, 10).astype(int)
    return [
        {"nps": int(nps[i]), "ratings": {f"d{j}": int(ratings[i, j]) for j in range(p)}}
        for i in range(n)
    ]


def test_planted_driver_weights_are_recovered_in_order_from_the_database(db: None) -> None:
    """Ratings with planted weights 0.8 > 0.5 > 0.3 > 0.1 > 0 are ranked in that order, and
    every share's interval covers the planted (population) share."""
    weights = [0.1, 0.8, 0.0, 0.5, 0.3]
    for j in range(len(weights)):
        AttributeFactory(slug=f"d{j}", label=f"Driver {j}")
    rng = np.random.default_rng(2026)
    store_responses(_planted_ratings(rng, 3000, weights))
    parameters = drivers_parameters_clean({"outcome": "nps", "replicates": 300})
    result = driver_analysis_from_database(parameters=parameters)
    ranked = [d["slug"] for d in result["drivers"]]
    assert ranked[:4] == ["d1", "d3", "d4", "d0"]
    assert result["n"] == 3000
    # independent drivers with equal variance: share ∝ weight² (clipping barely matters here)
    planted = np.array(weights) ** 2 / np.sum(np.array(weights) ** 2)
    for driver in result["drivers"]:
        low, high = driver["share_interval"]
        j = int(driver["slug"][1:])
        assert low - 0.02 <= planted[j] <= high + 0.02, (driver["slug"], low, high, planted[j])
    assert result["priority"][0]["slug"] == "d1"
    assert result["method"] == "shapley"


def test_sql_chunk_statistics_equal_numpy_chunk_statistics(db: None) -> None:
    """The GROUP BY id % K statistics from the database equal those computed in NumPy, with
    listwise and pairwise missing-value handling."""
    for j in range(3):
        AttributeFactory(slug=f"r{j}", label=f"R{j}")
    rng = np.random.default_rng(9)
    rows = []
    for _ in range(400):
        ratings: dict[str, object] = {
            f"r{j}": int(rng.integers(1, 6)) for j in range(3) if rng.random() > 0.2
        }
        if rng.random() < 0.05:
            ratings["r0"] = "n/a"  # non-numeric counts as missing
        rows.append({"nps": int(rng.integers(0, 11)), "ratings": ratings})
    stored = store_responses(rows)
    ids = np.array([r.pk for r in stored])
    values = np.array(
        [
            [
                float(r.ratings[s]) if isinstance(r.ratings.get(s), int) else np.nan
                for s in ("r0", "r1", "r2")
            ]
            + [float(r.nps or 0)]
            for r in stored
        ]
    )
    for missing in ("listwise", "pairwise"):
        from_sql, chunk_ids = driver_moments_fetch(
            filters={}, outcome="nps", driver_slugs=["r0", "r1", "r2"], missing=missing, n_chunks=16
        )
        from_numpy = moments_from_arrays(values, chunk_ids=ids, n_chunks=16, missing=missing)
        for name in ("pair_n", "pair_sum", "pair_sq", "cross"):
            np.testing.assert_allclose(
                getattr(from_sql, name), getattr(from_numpy, name), atol=1e-9, err_msg=name
            )
        assert len(chunk_ids) == from_numpy.n_chunks


def test_missing_rule_is_stated_and_listwise_counts_complete_rows() -> None:
    """Listwise uses only complete rows (n says so); pairwise uses every pair's rows."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2000, 3))
    y = x @ np.array([1.0, 0.5, 0.2]) + rng.normal(size=2000)
    data = np.column_stack([x, y])
    data[:500, 0] = np.nan
    specs = [DriverSpec(f"x{j}", f"X{j}", 1, 5) for j in range(3)]
    listwise = drivers_analyse(
        moments_from_arrays(data, missing="listwise"), specs, outcome="y", replicates=50
    )
    pairwise = drivers_analyse(
        moments_from_arrays(data, missing="pairwise"),
        specs,
        outcome="y",
        missing="pairwise",
        replicates=50,
    )
    assert listwise["n"] == 1500
    assert listwise["missing"] == "listwise" and "listwise" in listwise["missing_label"]
    assert pairwise["missing"] == "pairwise"
    assert [d["n"] for d in pairwise["drivers"] if d["slug"] == "x1"] == [2000]


def test_too_few_responses_is_a_readable_error(db: None) -> None:
    """With fewer responses than the minimum, the analysis refuses with a message."""
    AttributeFactory(slug="only", label="Only")
    store_responses([{"nps": i % 11, "ratings": {"only": 1 + i % 5}} for i in range(10)])
    parameters = drivers_parameters_clean({"outcome": "nps"})
    with pytest.raises(InvalidInput, match="Not enough responses"):
        driver_analysis_from_database(parameters=parameters)


def test_constant_outcome_is_reported_not_computed() -> None:
    """An outcome without variation gives a clear NotEnoughData, not NaN shares."""
    data = np.column_stack([np.arange(100.0) % 5, np.full(100, 7.0)])
    with pytest.raises(NotEnoughData, match="No variation in: y"):
        drivers_analyse(
            moments_from_arrays(data), [DriverSpec("x", "X", 1, 5)], outcome="y", replicates=0
        )


def test_bad_driver_parameters_name_the_fields(db: None) -> None:
    """Unknown outcome, drivers and filters give field messages."""
    AttributeFactory(slug="staff", label="Staff")
    with pytest.raises(InvalidInput) as caught:
        drivers_parameters_clean(
            {
                "outcome": "mood",
                "drivers": ["staff", "ghost"],
                "replicates": "many",
                "filters": {"touchpoint": "nowhere"},
            }
        )
    errors = caught.value.field_errors
    assert set(errors) == {"outcome", "drivers", "replicates", "filters.touchpoint"}
    assert "ghost" in errors["drivers"][0]
