from django.urls import path

from apps.inventory.apis.drf_views import StockAdjustApi

urlpatterns = [
    path(
        "vendor/products/<int:product_id>/stock/",
        StockAdjustApi.as_view(),
        name="vendor-product-stock",
    ),
]
