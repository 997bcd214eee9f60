"""Stores: creation for a new vendor, the vendor's own store on v1, staff approval."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.common.errors import Conflict, ValidationFailed
from apps.common.events import subscribe
from apps.vendors.events import StoreApproved
from apps.vendors.models import Store, StoreStatus
from apps.vendors.services import store_approve, store_create_for_vendor
from apps.vendors.tests.factories import StaffFactory, StoreFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_new_vendors_store_is_pending_with_a_unique_slug() -> None:
    StoreFactory.create(slug="lagos-looks")

    store = store_create_for_vendor(user=VendorFactory.create(), name="  Lagos Looks ")

    assert (store.name, store.slug, store.status) == ("Lagos Looks", "lagos-looks-2", "pending")


def test_only_vendors_get_stores_and_only_one_each() -> None:
    vendor = VendorFactory.create()
    store_create_for_vendor(user=vendor, name="One")

    with pytest.raises(Conflict):
        store_create_for_vendor(user=vendor, name="Two")
    with pytest.raises(ValidationFailed) as error:
        store_create_for_vendor(user=UserFactory.create(), name="Customer's")
    assert error.value.field_errors[0].field == "role"
    with pytest.raises(ValidationFailed):
        store_create_for_vendor(user=VendorFactory.create(), name="   ")
    assert Store.objects.count() == 1


@pytest.mark.usefixtures("clean_event_handlers")
def test_approval_is_idempotent_and_announced_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    seen: list[StoreApproved] = []
    subscribe(StoreApproved)(seen.append)
    store = StoreFactory.create(status=StoreStatus.PENDING)
    staff = StaffFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        store_approve(store_id=store.pk, actor=staff)
        store_approve(store_id=store.pk, actor=staff)

    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED
    assert store.approved_at is not None
    assert [event.store_id for event in seen] == [store.pk]


def test_vendor_reads_and_renames_their_store() -> None:
    store = StoreFactory.create(name="Old", slug="old")
    client = _client(store.owner)

    assert client.get("/api/v1/vendor/store/").json()["name"] == "Old"
    response = client.patch(
        "/api/v1/vendor/store/", {"name": "New Name", "status": "approved"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["slug"] == "new-name"
    store.refresh_from_db()
    assert store.name == "New Name"


def test_store_patch_rejects_bad_name() -> None:
    store = StoreFactory.create()

    response = _client(store.owner).patch(
        "/api/v1/vendor/store/", {"name": "x" * 121}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


@pytest.mark.parametrize("make_user", [UserFactory, VendorFactory, StaffFactory])
def test_store_endpoint_needs_a_vendor_with_a_store(make_user: Any) -> None:
    assert _client(make_user()).get("/api/v1/vendor/store/").status_code == 403


def test_staff_approve_a_store_over_v1() -> None:
    store = StoreFactory.create(status=StoreStatus.PENDING)

    response = _client(StaffFactory.create()).post(f"/api/v1/staff/vendors/{store.pk}/approve/")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_vendors_cannot_approve_and_unknown_store_is_404() -> None:
    store = StoreFactory.create(status=StoreStatus.PENDING)

    assert (
        _client(store.owner).post(f"/api/v1/staff/vendors/{store.pk}/approve/").status_code == 403
    )
    assert (
        _client(StaffFactory.create()).post("/api/v1/staff/vendors/999999/approve/").status_code
        == 404
    )
    store.refresh_from_db()
    assert store.status == StoreStatus.PENDING
