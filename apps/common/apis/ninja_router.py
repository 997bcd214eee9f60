"""v2 service metadata (a cheap, unauthenticated endpoint clients use to find the API)."""

from ninja import Router, Schema

from apps.common.apis.throttles import PublicAccess
from apps.common.selectors import service_meta

router = Router(tags=["meta"])


class MetaOut(Schema):
    name: str
    version: str
    api: str
    environment: str


@router.get(
    "/meta/", response=MetaOut, auth=PublicAccess("anon"), summary="Service name and version"
)
async def meta(request: object) -> MetaOut:
    """Who answers here: the service name, its version and which API layer this is."""
    return MetaOut(**service_meta(api="v2"))
