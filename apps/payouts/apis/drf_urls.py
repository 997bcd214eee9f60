from django.urls import path

from apps.payouts.apis.drf_staff import (
    PayoutRunCreateApi,
    PayoutRunDetailApi,
    StaffBalanceListApi,
    StaffLedgerAdjustApi,
    StaffPayoutHoldApi,
    StaffPayoutReleaseApi,
)
from apps.payouts.apis.drf_vendor import (
    VendorBalanceApi,
    VendorLedgerListApi,
    VendorPayoutDestinationApi,
    VendorPayoutDetailApi,
    VendorPayoutListApi,
    VendorStatementApi,
)

urlpatterns = [
    path("vendor/balance/", VendorBalanceApi.as_view(), name="vendor-balance"),
    path("vendor/ledger/", VendorLedgerListApi.as_view(), name="vendor-ledger"),
    path("vendor/payouts/", VendorPayoutListApi.as_view(), name="vendor-payouts"),
    path(
        "vendor/payouts/<int:payout_id>/",
        VendorPayoutDetailApi.as_view(),
        name="vendor-payout-detail",
    ),
    path("vendor/statement/", VendorStatementApi.as_view(), name="vendor-statement"),
    path(
        "vendor/payout-destination/",
        VendorPayoutDestinationApi.as_view(),
        name="vendor-payout-destination",
    ),
    path("staff/payouts/balances/", StaffBalanceListApi.as_view(), name="staff-balances"),
    path("staff/payouts/runs/", PayoutRunCreateApi.as_view(), name="payout-runs"),
    path(
        "staff/payouts/runs/<int:run_id>/",
        PayoutRunDetailApi.as_view(),
        name="payout-run-detail",
    ),
    path(
        "staff/vendors/<int:store_id>/payouts/hold/",
        StaffPayoutHoldApi.as_view(),
        name="staff-payouts-hold",
    ),
    path(
        "staff/vendors/<int:store_id>/payouts/release/",
        StaffPayoutReleaseApi.as_view(),
        name="staff-payouts-release",
    ),
    path(
        "staff/vendors/<int:store_id>/ledger/adjustments/",
        StaffLedgerAdjustApi.as_view(),
        name="staff-ledger-adjust",
    ),
]
