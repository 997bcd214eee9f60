from django.urls import path

from apps.orders.apis.drf_views import VendorOrderLineFulfilApi, VendorOrderLineListApi

urlpatterns = [
    path("vendor/order-lines/", VendorOrderLineListApi.as_view(), name="vendor-order-lines"),
    path(
        "vendor/order-lines/<int:line_id>/fulfil/",
        VendorOrderLineFulfilApi.as_view(),
        name="vendor-order-line-fulfil",
    ),
]
