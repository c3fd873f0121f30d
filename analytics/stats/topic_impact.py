"""Topic impact: how many NPS points the answers mentioning a topic cost or earn.

``impact = NPS(all answers) − NPS(answers not mentioning the topic)``. With ``w`` the share
of answers that mention the topic and ``a_T``, ``a_R`` the mean promoter score (+1/0/−1)
of mentioning and other answers, ``impact/100 = w (a_T − a_R)``. A negative impact means
the topic costs points: without those answers NPS would be higher.

Interval by the delta method, treating ``w``, ``a_T`` and ``a_R`` as independent
estimates (``a_T`` and ``a_R`` come from disjoint answers):

    Var = (a_T − a_R)² w(1 − w)/n + w² (v_T/n_T + v_R/n_R),  v = p_P + p_D − (p_P − p_D)²

Everything follows from four counts per topic, so one GROUP BY over topic mentions suffices.
"""

from __future__ import annotations

import math
from typing import Any

from scipy import stats as st


def topic_nps_impact(
    *,
    total_n: int,
    total_promoters: int,
    total_detractors: int,
    topic_n: int,
    topic_promoters: int,
    topic_detractors: int,
    min_n: int = 1,
    level: float = 0.95,
) -> dict[str, Any]:
    """Impact in NPS points of one topic, with its interval (see module docstring)."""
    rest_n = total_n - topic_n
    if topic_n < max(min_n, 1) or rest_n < max(min_n, 1):
        return {
            "status": "insufficient",
            "mentions": int(topic_n),
            "message": f"Not enough responses mentioning the topic ({topic_n}) or not mentioning it ({rest_n}).",
        }
    rest_p = total_promoters - topic_promoters
    rest_d = total_detractors - topic_detractors
    w = topic_n / total_n
    p_t, d_t = topic_promoters / topic_n, topic_detractors / topic_n
    p_r, d_r = rest_p / rest_n, rest_d / rest_n
    a_t, a_r = p_t - d_t, p_r - d_r
    v_t = max(p_t + d_t - a_t**2, 0.0)
    v_r = max(p_r + d_r - a_r**2, 0.0)
    impact = 100.0 * w * (a_t - a_r)
    variance = (a_t - a_r) ** 2 * w * (1 - w) / total_n + w**2 * (v_t / topic_n + v_r / rest_n)
    se = 100.0 * math.sqrt(variance)
    z = float(st.norm.ppf(0.5 + level / 2.0))
    p_value = float(2 * st.norm.sf(abs(impact) / se)) if se > 0 else (0.0 if impact else 1.0)
    return {
        "status": "ok",
        "impact": impact,
        "se": se,
        "interval": [impact - z * se, impact + z * se],
        "p_value": p_value,
        "mentions": int(topic_n),
        "share_pct": 100.0 * w,
        "nps_mentioning": 100.0 * a_t,
        "nps_not_mentioning": 100.0 * a_r,
        "nps_all": 100.0 * (total_promoters - total_detractors) / total_n,
    }
