"""Analytics models, one module per area: runs, text (topics, tags), drivers, KPIs and impact.

Each module's models are re-exported here so Django (and ``from analytics.models import X``)
finds them.
"""

from analytics.models.kpis import *  # noqa: F403
from analytics.models.runs import *  # noqa: F403
from analytics.models.text import *  # noqa: F403
