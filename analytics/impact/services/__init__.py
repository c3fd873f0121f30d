"""Impact writes, one module per area, re-exported here: ``estimates`` (action impact
estimates and ROI, the ``impact`` run kind) and ``kpis`` (the KPI catalogue, observations,
CSV import)."""

from analytics.impact.services.estimates import *  # noqa: F403
from analytics.impact.services.kpis import *  # noqa: F403
