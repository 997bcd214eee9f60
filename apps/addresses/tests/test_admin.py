"""The address admin: staff find addresses by customer email, city or country and read
them; nobody adds, edits or deletes them there."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.addresses.models import Address
from apps.addresses.tests.factories import make_address
from apps.vendors.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/addresses/address/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    return client


def test_search_finds_addresses_by_customer_email_city_and_country(admin_client: Client) -> None:
    ada = make_address(
        customer=UserFactory.create(email="ada@example.com"), recipient_name="Ada Lagos"
    )
    kofi = make_address(
        recipient_name="Kofi Accra",
        country="GH",
        region="",
        postal_code="GA-183-8164",
        phone="024 412 3456",
        city="Accra",
    )

    by_email = admin_client.get(CHANGELIST, {"q": "ada@example.com"})
    by_city = admin_client.get(CHANGELIST, {"q": "Accra"})
    by_country = admin_client.get(CHANGELIST, {"country__exact": "GH"})

    assert by_email.status_code == by_city.status_code == by_country.status_code == 200
    assert ada.recipient_name in by_email.text and kofi.recipient_name not in by_email.text
    assert kofi.recipient_name in by_city.text and ada.recipient_name not in by_city.text
    assert kofi.recipient_name in by_country.text and ada.recipient_name not in by_country.text


def test_an_address_is_read_only(admin_client: Client) -> None:
    address = make_address()
    page = f"{CHANGELIST}{address.pk}/change/"

    shown = admin_client.get(page)
    posted = admin_client.post(page, {"city": "Abuja"})

    assert shown.status_code == 200
    assert "12 Admiralty Way" in shown.text
    assert posted.status_code == 403
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{address.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Address.objects.get(pk=address.pk).city == "Lagos"
