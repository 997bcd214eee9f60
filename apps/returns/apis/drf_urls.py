from django.urls import path

from apps.returns.apis.drf_views import (
    VendorReturnApproveApi,
    VendorReturnDetailApi,
    VendorReturnListApi,
    VendorReturnReceiveApi,
    VendorReturnRejectApi,
)

urlpatterns = [
    path("vendor/returns/", VendorReturnListApi.as_view(), name="vendor-returns"),
    path("vendor/returns/<int:return_id>/", VendorReturnDetailApi.as_view(), name="vendor-return"),
    path(
        "vendor/returns/<int:return_id>/approve/",
        VendorReturnApproveApi.as_view(),
        name="vendor-return-approve",
    ),
    path(
        "vendor/returns/<int:return_id>/reject/",
        VendorReturnRejectApi.as_view(),
        name="vendor-return-reject",
    ),
    path(
        "vendor/returns/<int:return_id>/receive/",
        VendorReturnReceiveApi.as_view(),
        name="vendor-return-receive",
    ),
]
