"""URL wiring: /api/v1/ (DRF), /api/v2/ (Ninja), docs, health, admin."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.common import health, metrics_view
from apps.common.apis.ninja_errors import problem_405_urls
from apps.common.apis.plain_errors import api_aware_400, api_aware_404, api_aware_500
from config.ninja_api import api as v2

v1_patterns: list[URLPattern | URLResolver] = [
    path("", include("apps.common.apis.drf_urls")),
    path("", include("apps.vendors.apis.drf_urls")),
    path("", include("apps.catalog.apis.drf_urls")),
    path("", include("apps.inventory.apis.drf_urls")),
    path("", include("apps.orders.apis.drf_urls")),
    path("", include("apps.payments.apis.drf_urls")),
    path("", include("apps.analytics.apis.drf_urls")),
    path("", include("apps.payouts.apis.drf_urls")),
    path("", include("apps.shipping.apis.drf_urls")),
    path("", include("apps.returns.apis.drf_urls")),
    path("", include("apps.fit.apis.drf_urls")),
    # The documents are never throttled (nor are v2's and the health checks).
    path(
        "schema/",
        SpectacularAPIView.as_view(api_version="v1", throttle_classes=[]),
        name="v1-schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="v1-schema", throttle_classes=[]),
        name="v1-docs",
    ),
]

# The customer API first: Django tries the patterns in order, and v2 carries the hot paths.
urlpatterns = [
    path("api/v2/", problem_405_urls(v2.urls)),
    path("api/v1/", include(v1_patterns)),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]

handler400 = api_aware_400
handler404 = api_aware_404
handler500 = api_aware_500
