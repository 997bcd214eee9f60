"""The event bus: after commit, never on rollback, in order, isolated, sync and async."""

from collections.abc import Callable

import pytest
from django.db import transaction

from apps.common.events import Event, apublish, publish, subscribe
from conftest import JsonLogs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_event_handlers"),
]


class ParcelShipped(Event):
    name = "parcel.shipped"
    parcel_id: int


def test_delivery_waits_for_commit() -> None:
    seen: list[int] = []
    subscribe(ParcelShipped)(lambda event: seen.append(event.parcel_id))

    with transaction.atomic():
        publish(ParcelShipped(parcel_id=7))
        assert seen == [], "handlers must not run before the transaction commits"

    assert seen == [7]


def test_rolled_back_transaction_delivers_nothing() -> None:
    seen: list[int] = []
    subscribe(ParcelShipped)(lambda event: seen.append(event.parcel_id))

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ParcelShipped(parcel_id=8))
        raise RuntimeError("checkout failed")

    assert seen == []


def test_inner_savepoint_rollback_drops_only_its_events() -> None:
    seen: list[int] = []
    subscribe(ParcelShipped)(lambda event: seen.append(event.parcel_id))

    with transaction.atomic():
        publish(ParcelShipped(parcel_id=1))
        try:
            with transaction.atomic():
                publish(ParcelShipped(parcel_id=2))
                raise ValueError("line failed")
        except ValueError:
            pass

    assert seen == [1]


def test_without_transaction_delivers_at_once() -> None:
    seen: list[int] = []
    subscribe(ParcelShipped)(lambda event: seen.append(event.parcel_id))

    publish(ParcelShipped(parcel_id=3))

    assert seen == [3]


def test_handlers_run_in_registration_order() -> None:
    calls: list[str] = []

    def recorder(label: str) -> Callable[[ParcelShipped], None]:
        return lambda event: calls.append(label)

    for label in ("first", "second", "third"):
        subscribe(ParcelShipped)(recorder(label))

    publish(ParcelShipped(parcel_id=4))

    assert calls == ["first", "second", "third"]


def test_failing_handler_is_logged_and_isolated(json_logs: JsonLogs) -> None:
    calls: list[str] = []

    @subscribe(ParcelShipped)
    def explodes(event: ParcelShipped) -> None:
        raise KeyError("warehouse")

    subscribe(ParcelShipped)(lambda event: calls.append("after"))

    with transaction.atomic():
        publish(ParcelShipped(parcel_id=5))  # the publisher sees no error

    assert calls == ["after"]
    failures = [line for line in json_logs() if line["message"] == "event.handler_failed"]
    assert len(failures) == 1
    assert failures[0]["level"] == "error"
    assert failures[0]["event_name"] == "parcel.shipped"
    assert "explodes" in failures[0]["handler"]
    assert "KeyError" in failures[0]["exception"]


def test_async_handler_runs_from_sync_publish() -> None:
    seen: list[int] = []

    @subscribe(ParcelShipped)
    async def notify(event: ParcelShipped) -> None:
        seen.append(event.parcel_id)

    with transaction.atomic():
        publish(ParcelShipped(parcel_id=6))

    assert seen == [6]


async def test_apublish_runs_sync_and_async_handlers_in_order() -> None:
    calls: list[str] = []

    @subscribe(ParcelShipped)
    def sync_handler(event: ParcelShipped) -> None:
        calls.append("sync")

    @subscribe(ParcelShipped)
    async def async_handler(event: ParcelShipped) -> None:
        calls.append("async")

    await apublish(ParcelShipped(parcel_id=9))

    assert calls == ["sync", "async"]


def test_events_are_validated_and_frozen() -> None:
    with pytest.raises(ValueError, match="parcel_id"):
        ParcelShipped(parcel_id="not a number")
    event = ParcelShipped(parcel_id=1)
    with pytest.raises(ValueError, match="frozen"):
        event.parcel_id = 2  # type: ignore[misc]
