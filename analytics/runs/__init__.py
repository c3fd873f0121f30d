"""Analysis runs: the generic engine that records, queues and executes every analysis.

The engine knows no run kind; the features fill the table in ``analytics.runs.kinds``.
"""
