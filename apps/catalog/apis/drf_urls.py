from django.urls import path

from apps.catalog.apis.drf_views import VendorProductDetailApi, VendorProductListApi

urlpatterns = [
    path("vendor/products/", VendorProductListApi.as_view(), name="vendor-products"),
    path(
        "vendor/products/<int:product_id>/",
        VendorProductDetailApi.as_view(),
        name="vendor-product",
    ),
]
