from django.urls import path

from apps.vendors.apis.drf_views import StaffStoreApproveApi, VendorStoreApi

urlpatterns = [
    path("vendor/store/", VendorStoreApi.as_view(), name="vendor-store"),
    path(
        "staff/vendors/<int:store_id>/approve/",
        StaffStoreApproveApi.as_view(),
        name="staff-store-approve",
    ),
]
