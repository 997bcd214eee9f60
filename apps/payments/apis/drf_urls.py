from django.urls import path

from apps.payments.apis.drf_views import PaymentRefundApi

urlpatterns = [
    path("payments/<int:payment_id>/refunds/", PaymentRefundApi.as_view(), name="payment-refunds"),
]
