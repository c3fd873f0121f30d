"""The Celery tasks of every analytics feature, imported here for Celery's autodiscovery.

``app.autodiscover_tasks()`` imports ``<app>.tasks`` of each installed app; analytics keeps
its tasks in its feature packages, so this module imports them.
"""

from analytics.impact import tasks as impact_tasks  # noqa: F401
from analytics.insights import tasks as insights_tasks  # noqa: F401
from analytics.responses import tasks as responses_tasks  # noqa: F401
from analytics.runs import tasks as runs_tasks  # noqa: F401
from analytics.text import tasks as text_tasks  # noqa: F401
