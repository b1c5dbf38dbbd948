"""The portal's own settings, plus two things only the benchmark serves: a bare view (the
ceiling of the stack, at /bench/bare on the platform host) and an X-Query-Count header on
every response (the SQL statements the request ran)."""

from csp_portal.settings import *  # noqa: F403
from csp_portal.settings import MIDDLEWARE as _PORTAL_MIDDLEWARE

BENCH_BARE_VIEW = True
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *_PORTAL_MIDDLEWARE]
# Its own collected static files (DJANGO_DEBUG=false serves them from the manifest).
STATIC_ROOT = VAR_DIR / "bench" / "static"  # noqa: F405
