from django.urls import path

from apps.payments.apis.drf_views import PaymentRefundApi, RefundRetryApi

urlpatterns = [
    path("payments/<int:payment_id>/refunds/", PaymentRefundApi.as_view(), name="payment-refunds"),
    path(
        "payments/<int:payment_id>/refunds/<int:refund_id>/retry/",
        RefundRetryApi.as_view(),
        name="refund-retry",
    ),
]
