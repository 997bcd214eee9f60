"""v1, staff: every store's balances, holding and releasing a store's payouts, manual
ledger adjustments, and payout runs on demand."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.common.limits import MAX_ID
from apps.payouts.apis.drf_vendor import (
    CURRENCY_PATTERN,
    LedgerEntryOutputSerializer,
    money_field,
)
from apps.payouts.models import PayoutRun
from apps.payouts.selectors import balances_for_staff, payout_run_get
from apps.payouts.services import (
    ledger_adjust,
    payout_run_start,
    payouts_hold,
    payouts_release,
)
from apps.payouts.services.payouts import PERIOD_KEY_MAX_LENGTH, REASON_MAX_LENGTH
from apps.payouts.services.staff import MAX_ADJUSTMENT
from apps.vendors.apis.permissions import IsMarketplaceStaff


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="Why (recorded).")


class StaffBalanceOutputSerializer(serializers.Serializer):
    store_id = serializers.IntegerField()
    store_name = serializers.CharField(source="store.name")
    currency = serializers.CharField()
    pending = money_field()
    available = money_field()
    debt = money_field()
    paid_out = money_field()
    payouts_on_hold = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class StaffBalanceListApi(APIView):
    """Every store's balance per currency, largest available first."""

    permission_classes = [IsMarketplaceStaff]

    class FilterSerializer(serializers.Serializer):
        store_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        currency = serializers.RegexField(CURRENCY_PATTERN, max_length=3, required=False)
        on_hold = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="staff_balance_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(StaffBalanceOutputSerializer),
        summary="Store balances",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        balances = balances_for_staff(**filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(balances, request, view=self)
        return paginator.get_paginated_response(StaffBalanceOutputSerializer(page, many=True).data)


class HoldOutputSerializer(serializers.Serializer):
    store_id = serializers.IntegerField()
    payouts_on_hold = serializers.BooleanField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class StaffPayoutHoldApi(APIView):
    """Stop a store's payouts (runs skip it; money keeps accruing). 409 if already held."""

    permission_classes = [IsMarketplaceStaff]

    @extend_schema(
        operation_id="staff_payouts_hold",
        request=ReasonSerializer,
        responses={
            201: HoldOutputSerializer,
            409: OpenApiResponse(description="Already held (`payouts_already_held`)."),
        },
        summary="Hold a store's payouts",
    )
    def post(self, request: Request, store_id: int) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = payouts_hold(
            store_id=store_id,
            actor=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        data = {
            "store_id": hold.store_id,
            "payouts_on_hold": True,
            "reason": hold.reason,
            "at": hold.created_at,
        }
        return Response(HoldOutputSerializer(data).data, status=status.HTTP_201_CREATED)


class StaffPayoutReleaseApi(APIView):
    """Let a held store be paid again from the next run. 409 if not held."""

    permission_classes = [IsMarketplaceStaff]

    @extend_schema(
        operation_id="staff_payouts_release",
        request=ReasonSerializer,
        responses={
            200: HoldOutputSerializer,
            409: OpenApiResponse(description="Not held (`payouts_not_held`)."),
        },
        summary="Release a store's payouts",
    )
    def post(self, request: Request, store_id: int) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = payouts_release(
            store_id=store_id,
            actor=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        data = {
            "store_id": store.pk,
            "payouts_on_hold": False,
            "reason": serializer.validated_data["reason"],
            "at": timezone.now(),
        }
        return Response(HoldOutputSerializer(data).data)


class StaffLedgerAdjustApi(APIView):
    """Credit or debit a store's available balance by hand, with a reason. A credit pays
    any debt back first; a debit may not exceed what is available (409
    ``insufficient_available``)."""

    permission_classes = [IsMarketplaceStaff]

    class InputSerializer(ReasonSerializer):
        currency = serializers.RegexField(CURRENCY_PATTERN, max_length=3)
        amount = serializers.DecimalField(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0.01"),
            max_value=MAX_ADJUSTMENT,
            help_text="Positive; `direction` says which way.",
        )
        direction = serializers.ChoiceField(choices=["credit", "debit"])

    @extend_schema(
        operation_id="staff_ledger_adjust",
        request=InputSerializer,
        responses={201: LedgerEntryOutputSerializer},
        summary="Adjust a store's balance",
    )
    def post(self, request: Request, store_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = ledger_adjust(
            store_id=store_id,
            actor=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        return Response(LedgerEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class PayoutRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period_key = serializers.CharField()
    status = serializers.CharField(help_text="running or done.")
    payouts_created = serializers.IntegerField()
    stores_skipped = serializers.DictField(
        child=serializers.CharField(), help_text='"<store>:<currency>" → why it was not paid.'
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _run_location(request: Request, run: PayoutRun) -> str:
    return request.build_absolute_uri(reverse("payout-run-detail", args=[run.pk]))


class PayoutRunCreateApi(APIView):
    """Start a payout run now. The same ``period_key`` again is the same run (200), never
    a second payment; without one the key is ``staff:<current minute>``."""

    permission_classes = [IsMarketplaceStaff]

    class InputSerializer(serializers.Serializer):
        period_key = serializers.CharField(
            max_length=PERIOD_KEY_MAX_LENGTH, required=False, help_text="Names the run."
        )

    @extend_schema(
        operation_id="payout_run_create",
        request=InputSerializer,
        responses={
            202: PayoutRunOutputSerializer,
            200: OpenApiResponse(PayoutRunOutputSerializer, description="That key's run."),
        },
        summary="Start a payout run",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = serializer.validated_data.get("period_key") or (
            f"staff:{timezone.now().strftime('%Y-%m-%dT%H:%M')}"
        )
        run, created = payout_run_start(period_key=key, actor=request.user)  # type: ignore[arg-type]
        run.refresh_from_db()
        return Response(
            PayoutRunOutputSerializer(run).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": _run_location(request, run)},
        )


class PayoutRunDetailApi(APIView):
    """A payout run: running or done, how many payouts it made, whom it skipped and why."""

    permission_classes = [IsMarketplaceStaff]

    @extend_schema(
        operation_id="payout_run_get", responses=PayoutRunOutputSerializer, summary="A payout run"
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(PayoutRunOutputSerializer(payout_run_get(run_id=run_id)).data)
