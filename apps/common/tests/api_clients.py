"""Test helpers for driving both APIs as a signed-in user would, and for delivering the
provider sandbox's signed webhooks to the app."""

from __future__ import annotations

from typing import Any

from django.test import Client

from apps.authentication.services import ClientInfo, session_start


def signed_in(user: Any) -> Client:
    """A test client carrying a fresh access token of ``user`` (sign in again after the
    clock moved past the token's lifetime)."""
    token = session_start(user=user, client=ClientInfo()).access
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post_json(client: Client, path: str, body: Any = None) -> Any:
    return client.post(path, body if body is not None else {}, content_type="application/json")


def problem_fields(response: Any) -> list[str]:
    """The fields a 422 problem names (asserting it is one)."""
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return sorted({error["field"] for error in response.json()["errors"]})


def deliver_webhook(webhook: dict[str, Any]) -> Any:
    """POST a webhook the sandbox sent (its body and signature headers) to the app."""
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in webhook["headers"].items()
        if k.lower() != "content-type"
    }
    return Client().post(
        f"/api/v2/webhooks/{webhook['provider']}/",
        webhook["body"],
        content_type="application/json",
        **headers,
    )
