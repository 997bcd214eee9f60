from django.urls import path

from apps.analytics.apis.drf_views import (
    SalesReportCreateApi,
    SalesReportCsvApi,
    SalesReportDetailApi,
    ScorecardListApi,
)

urlpatterns = [
    path("reports/sales/", SalesReportCreateApi.as_view(), name="sales-reports"),
    path(
        "reports/sales/<int:report_id>/",
        SalesReportDetailApi.as_view(),
        name="sales-report-detail",
    ),
    path(
        "reports/sales/<int:report_id>/csv/",
        SalesReportCsvApi.as_view(),
        name="sales-report-csv",
    ),
    path("reports/scorecards/", ScorecardListApi.as_view(), name="scorecards"),
]
