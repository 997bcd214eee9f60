"""Factories for users and stores."""

from __future__ import annotations

import factory

from apps.authentication.models import Role, User
from apps.vendors.models import Store, StoreStatus


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.CUSTOMER
    is_email_verified = True
    password = factory.django.Password("a-Strong-pass-9")


class VendorFactory(UserFactory):
    role = Role.VENDOR


class StaffFactory(UserFactory):
    role = Role.STAFF


class StoreFactory(factory.django.DjangoModelFactory[Store]):
    class Meta:
        model = Store

    owner = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    status = StoreStatus.APPROVED
