"""Events about stores."""

from typing import ClassVar

from apps.common.events import Event


class StoreCreated(Event):
    name: ClassVar[str] = "vendors.store_created"
    store_id: int
    owner_id: int


class StoreApproved(Event):
    name: ClassVar[str] = "vendors.store_approved"
    store_id: int
    approved_by_id: int | None
