"""v1, vendors: their own store's balance, ledger, payouts, monthly statement and payout
destination. Another store's payout id is 404."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.drf_csv import CsvOnly, CsvRenderer
from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.payouts.models import EntryKind, PayoutProvider, PayoutStatus
from apps.payouts.selectors import (
    ledger_entries_for_store,
    payout_destination_active,
    payout_get_for_store,
    payouts_for_store,
    statement_rows,
    store_balances,
)
from apps.payouts.services import payout_destination_register
from apps.payouts.services.destinations import ACCOUNT_CODE_MAX_LENGTH
from apps.vendors.apis.permissions import IsVendor
from apps.vendors.selectors import store_get_for_owner

CURRENCY_PATTERN = r"^[A-Za-z]{3}$"


def money_field(help_text: str = "") -> serializers.DecimalField:
    """An amount of a balance or the ledger (string with two decimals)."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, help_text=help_text)


def _store_id(request: Request) -> int:
    return store_get_for_owner(user=request.user).pk


class BalanceOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    pending = money_field(help_text="Earned, held until the hold ends.")
    available = money_field(help_text="Paid out by the next run.")
    debt = money_field(help_text="Refunded after payout: recovered from later earnings.")
    paid_out = money_field(help_text="Sent (includes `in_transit`).")
    in_transit = money_field(help_text="Payouts not settled yet.")
    updated_at = serializers.DateTimeField()


class VendorBalanceApi(APIView):
    """The store's balance in each currency it has sold in (or in one)."""

    permission_classes = [IsVendor]

    class FilterSerializer(serializers.Serializer):
        currency = serializers.RegexField(CURRENCY_PATTERN, max_length=3, required=False)

    class OutputSerializer(serializers.Serializer):
        store_id = serializers.IntegerField()
        payouts_on_hold = serializers.BooleanField()
        balances = BalanceOutputSerializer(many=True)

    @extend_schema(
        operation_id="vendor_balance_get",
        parameters=[FilterSerializer],
        responses=OutputSerializer,
        summary="Balance",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = store_balances(store_id=_store_id(request), **filters.validated_data)
        return Response(self.OutputSerializer(data).data)


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    currency = serializers.CharField()
    kind = serializers.CharField(help_text=", ".join(EntryKind.values))
    amount = money_field(help_text="What it did to what the store is owed (+ credit, - debit).")
    pending = money_field()
    available = money_field()
    debt = money_field()
    paid_out = money_field()
    pending_after = money_field()
    available_after = money_field()
    debt_after = money_field()
    paid_out_after = money_field()
    order_id = serializers.IntegerField(allow_null=True)
    order_number = serializers.CharField(source="order.order_number", allow_null=True, default=None)
    payout_id = serializers.IntegerField(allow_null=True)
    payout_reference = serializers.CharField(
        source="payout.reference", allow_null=True, default=None
    )
    reason = serializers.CharField()


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _within(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise serializers.ValidationError(f"Between {FIRST_DAY} and {LAST_DAY}.")


class DateRangeSerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False, validators=[_within], help_text="First local day (YYYY-MM-DD)."
    )
    date_to = serializers.DateField(
        required=False, validators=[_within], help_text="Last local day, inclusive."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError({"date_to": "Before date_from."})
        return attrs


class VendorLedgerListApi(APIView):
    """The store's ledger entries, newest first."""

    permission_classes = [IsVendor]

    class FilterSerializer(DateRangeSerializer):
        kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
        currency = serializers.RegexField(CURRENCY_PATTERN, max_length=3, required=False)

    @extend_schema(
        operation_id="vendor_ledger_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(LedgerEntryOutputSerializer),
        summary="Ledger entries",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = ledger_entries_for_store(store_id=_store_id(request), **filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(LedgerEntryOutputSerializer(page, many=True).data)


class PayoutOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="Sent to the provider with every attempt.")
    status = serializers.CharField(help_text=", ".join(PayoutStatus.values))
    currency = serializers.CharField()
    amount = money_field()
    provider = serializers.CharField()
    account_code = serializers.CharField(source="destination.account_code")
    account_name = serializers.CharField(source="destination.account_name")
    provider_transfer_id = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True)
    retry_of_id = serializers.IntegerField(allow_null=True)
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


class VendorPayoutListApi(APIView):
    """The store's payouts, newest first."""

    permission_classes = [IsVendor]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PayoutStatus.choices, required=False)

    @extend_schema(
        operation_id="vendor_payout_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(PayoutOutputSerializer),
        summary="Payouts",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        payouts = payouts_for_store(store_id=_store_id(request), **filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(payouts, request, view=self)
        return paginator.get_paginated_response(PayoutOutputSerializer(page, many=True).data)


class VendorPayoutDetailApi(APIView):
    """One of the store's payouts (another store's id is 404)."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_payout_get", responses=PayoutOutputSerializer, summary="A payout"
    )
    def get(self, request: Request, payout_id: int) -> Response:
        payout = payout_get_for_store(store_id=_store_id(request), payout_id=payout_id)
        return Response(PayoutOutputSerializer(payout).data)


class VendorStatementApi(APIView):
    """The store's statement of one month as CSV: per currency, the opening balance,
    every ledger entry of the month, the closing balance."""

    permission_classes = [IsVendor]
    renderer_classes = [CsvRenderer]
    content_negotiation_class = CsvOnly

    class FilterSerializer(serializers.Serializer):
        month = serializers.RegexField(
            r"^(20[0-9]{2})-(0[1-9]|1[0-2])$",
            max_length=7,
            help_text="YYYY-MM, a month of the marketplace's time zone (2000-01 … 2099-12).",
        )

    @extend_schema(
        operation_id="vendor_statement_csv",
        parameters=[FilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="date, currency, type, description, order_number, "
                "payout_reference, amount, the four changes, the four balances after.",
            )
        },
        summary="Monthly statement (CSV)",
    )
    def get(self, request: Request) -> HttpResponse:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        year, month = (int(part) for part in filters.validated_data["month"].split("-"))
        store_id = _store_id(request)
        buffer = io.StringIO()
        rows = statement_rows(store_id=store_id, month=date(year, month, 1))
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        filename = f"statement-store-{store_id}-{year:04d}-{month:02d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class DestinationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField()
    account_code = serializers.CharField()
    account_name = serializers.CharField(help_text="As the provider holds it.")
    currency = serializers.CharField(help_text="The only currency it takes (empty: any).")
    status = serializers.CharField(help_text="verified, or unverified (not paid until it is).")
    verified_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class VendorPayoutDestinationApi(APIView):
    """Where the store is paid: read it, or register a new one (verified with the
    provider; it replaces the previous one). Square cannot pay vendors through its API
    (422 on ``provider``)."""

    permission_classes = [IsVendor]

    class InputSerializer(serializers.Serializer):
        provider = serializers.ChoiceField(
            choices=[*PayoutProvider.values, "square"],
            help_text="paystack (a transfer recipient code) or stripe (a connected account "
            "id); square is refused: its API has no payouts to third parties.",
        )
        account_code = serializers.CharField(
            max_length=ACCOUNT_CODE_MAX_LENGTH, help_text="RCP_… (Paystack) or acct_… (Stripe)."
        )

    @extend_schema(
        operation_id="payout_destination_get",
        responses={
            200: DestinationOutputSerializer,
            404: OpenApiResponse(description="No payout destination registered yet."),
        },
        summary="Payout destination",
    )
    def get(self, request: Request) -> Response:
        destination = payout_destination_active(store_id=_store_id(request))
        return Response(DestinationOutputSerializer(destination).data)

    @extend_schema(
        operation_id="payout_destination_create",
        request=InputSerializer,
        responses={201: DestinationOutputSerializer},
        summary="Register a payout destination",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = payout_destination_register(
            store=store_get_for_owner(user=request.user),
            actor=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        return Response(
            DestinationOutputSerializer(destination).data, status=status.HTTP_201_CREATED
        )
