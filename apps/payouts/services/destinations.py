"""Where a store is paid: registered by its vendor, confirmed with the provider."""

from __future__ import annotations

import re

import structlog
from django.db import transaction
from django.utils import timezone

from apps.authentication.models import User
from apps.common.errors import NotFound, ValidationFailed
from apps.payments.providers.base import (
    DestinationCheck,
    PermanentProviderError,
    TransientProviderError,
)
from apps.payments.providers.registry import get_transfer_provider
from apps.payouts.models import DestinationStatus, PayoutDestination, PayoutProvider
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

# Paystack transfer recipient codes and Stripe connected account ids.
ACCOUNT_CODE_FORMATS = {
    PayoutProvider.PAYSTACK: re.compile(r"RCP_[a-z0-9]{6,60}"),
    PayoutProvider.STRIPE: re.compile(r"acct_[A-Za-z0-9]{6,59}"),
}
ACCOUNT_CODE_MAX_LENGTH = 64
MANUAL_PROVIDERS = {"square"}


def _validated(provider: str, account_code: str) -> tuple[str, str]:
    if provider in MANUAL_PROVIDERS:
        raise ValidationFailed.for_field(
            "provider",
            "Square's API cannot pay vendors: stores paid through Square are paid by the "
            "marketplace outside this system.",
            "payouts_unsupported",
        )
    if provider not in PayoutProvider.values:
        raise ValidationFailed.for_field(
            "provider", f"One of {', '.join(PayoutProvider.values)}.", "invalid_choice"
        )
    code = (account_code or "").strip()
    if not ACCOUNT_CODE_FORMATS[PayoutProvider(provider)].fullmatch(code):
        example = "RCP_…" if provider == PayoutProvider.PAYSTACK else "acct_…"
        raise ValidationFailed.for_field(
            "account_code", f"Not a {provider} account code ({example}).", "invalid"
        )
    return provider, code


def _check(provider: str, code: str) -> DestinationCheck | None:
    """The provider's answer; None when it gave none (asked again by the reconciler)."""
    try:
        return get_transfer_provider(provider).destination_check(account_code=code)
    except (TransientProviderError, PermanentProviderError) as error:
        logger.warning("payout_destination.unchecked", provider=provider, error=str(error))
        return None


def payout_destination_register(
    *, store: Store, provider: str, account_code: str, actor: User | None
) -> PayoutDestination:
    """Make ``account_code`` at ``provider`` the store's payout destination, after asking
    the provider about it (outside any transaction). The previous destination is retired.
    A provider that does not answer leaves it ``unverified`` (not paid until the
    reconciler has it confirmed). Raises ``ValidationFailed``: ``provider`` (Square, or
    unknown), ``account_code`` (malformed, or the provider refuses transfers to it)."""
    provider, code = _validated(provider, account_code)
    check = _check(provider, code)
    if check is not None and not check.verified:
        raise ValidationFailed.for_field(
            "account_code",
            f"{provider.title()} does not accept transfers to this account: {check.reason}.",
            "destination_rejected",
        )
    with transaction.atomic():
        # One registration of a store at a time: the active destination stays unique.
        Store.objects.select_for_update().filter(pk=store.pk).first()
        PayoutDestination.objects.filter(store=store, is_active=True).update(is_active=False)
        destination = PayoutDestination.objects.create(
            store=store,
            provider=provider,
            account_code=code,
            account_name=(check.account_name if check else "")[:200],
            currency=(check.currency if check else "")[:3],
            status=DestinationStatus.VERIFIED if check else DestinationStatus.UNVERIFIED,
            verified_at=timezone.now() if check else None,
            last_error="" if check else "the provider did not answer",
            created_by=actor,
        )
    logger.info(
        "payout_destination.registered",
        store_id=store.pk,
        provider=provider,
        status=destination.status,
    )
    return destination


def payout_destination_verify(*, destination_id: int) -> str:
    """Ask the provider again about an active, unverified destination (the reconciler).
    Returns its status, or ``rejected`` (kept unverified, with the provider's reason)."""
    destination = PayoutDestination.objects.filter(pk=destination_id).first()
    if destination is None:
        raise NotFound("Payout destination not found.", code="destination_not_found")
    if destination.status == DestinationStatus.VERIFIED or not destination.is_active:
        return str(destination.status)
    check = _check(destination.provider, destination.account_code)
    if check is None:
        return str(destination.status)
    if not check.verified:
        PayoutDestination.objects.filter(pk=destination.pk).update(last_error=check.reason[:255])
        logger.warning("payout_destination.rejected", destination_id=destination.pk)
        return "rejected"
    PayoutDestination.objects.filter(pk=destination.pk, status=DestinationStatus.UNVERIFIED).update(
        status=DestinationStatus.VERIFIED,
        verified_at=timezone.now(),
        account_name=check.account_name[:200],
        currency=check.currency[:3],
        last_error="",
    )
    return DestinationStatus.VERIFIED
