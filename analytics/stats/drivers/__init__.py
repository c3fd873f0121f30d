"""Driver analysis: which ratings move an outcome score, computed from sufficient statistics.

- ``sufficient``: per-chunk moments (n, sums, cross-products) that merge by addition.
- ``shapley``: exact Shapley/LMG decomposition of R² over all 2^p driver subsets.
- ``relative_weights``: Johnson's relative weights, the fast path for many drivers.
- ``bootstrap``: resampling of chunk statistics for intervals.
- ``analysis``: the full result (shares, ranks, intervals, quadrant, priority list).
"""
