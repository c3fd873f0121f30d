"""The WSGI application gunicorn serves (compose, the Dockerfile, the bench, the load test).

After Django is set up and the URLconf (with every view module) is loaded, the objects that
live as long as the process are moved out of the garbage collector's reach (``gc.freeze``).
A full collection otherwise walks those 250,000 objects again and again while a request
allocates: about 160 ms of a 900 ms bulk post of 10,000 items (docs/performance.md). Frozen
before gunicorn forks (``--preload``), they also stay shared between the workers' memory.
"""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxhub.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 -- imports every view now, not on the first request
gc.collect()
gc.freeze()
