from django.urls import path

from apps.fit.apis.drf_views import (
    StaffFitOutlierListApi,
    VendorSizeChartDetailApi,
    VendorSizeChartListApi,
)

urlpatterns = [
    path("vendor/size-charts/", VendorSizeChartListApi.as_view(), name="vendor-size-charts"),
    path(
        "vendor/size-charts/<int:size_chart_id>/",
        VendorSizeChartDetailApi.as_view(),
        name="vendor-size-chart",
    ),
    path("staff/fit/outliers/", StaffFitOutlierListApi.as_view(), name="staff-fit-outliers"),
]
