"""Every model of the analytics app, re-exported from the feature package that owns it.

Django imports ``analytics.models`` to find the app's models; the models themselves live in
``analytics.runs.models``, ``analytics.text.models``, ``analytics.impact.models`` and
``analytics.responses.models`` (the roll-ups), all with the app label ``analytics``. Code outside analytics may import from here;
code inside a feature imports from the owning package, so features stay independent.
"""

from analytics.impact.models import *  # noqa: F403
from analytics.responses.models import *  # noqa: F403
from analytics.runs.models import *  # noqa: F403
from analytics.text.models import *  # noqa: F403
