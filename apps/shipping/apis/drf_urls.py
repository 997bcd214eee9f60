from django.urls import path

from apps.shipping.apis.drf_views import (
    VendorShipmentDeliveredApi,
    VendorShipmentDetailApi,
    VendorShipmentListApi,
    VendorShipmentReturnedApi,
    VendorShipmentShipApi,
    VendorShippingMethodDetailApi,
    VendorShippingMethodListApi,
)

urlpatterns = [
    path(
        "vendor/shipping-methods/",
        VendorShippingMethodListApi.as_view(),
        name="vendor-shipping-methods",
    ),
    path(
        "vendor/shipping-methods/<int:method_id>/",
        VendorShippingMethodDetailApi.as_view(),
        name="vendor-shipping-method",
    ),
    path("vendor/shipments/", VendorShipmentListApi.as_view(), name="vendor-shipments"),
    path(
        "vendor/shipments/<int:shipment_id>/",
        VendorShipmentDetailApi.as_view(),
        name="vendor-shipment",
    ),
    path(
        "vendor/shipments/<int:shipment_id>/ship/",
        VendorShipmentShipApi.as_view(),
        name="vendor-shipment-ship",
    ),
    path(
        "vendor/shipments/<int:shipment_id>/delivered/",
        VendorShipmentDeliveredApi.as_view(),
        name="vendor-shipment-delivered",
    ),
    path(
        "vendor/shipments/<int:shipment_id>/returned/",
        VendorShipmentReturnedApi.as_view(),
        name="vendor-shipment-returned",
    ),
]
