"""One access token for both layers; expired, tampered, forged and revoked tokens are
refused; refresh tokens rotate, are single use, and a replay ends the session."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.utils import timezone

from apps.authentication.models import AuthSession, User
from apps.authentication.tests.conftest import Api
from apps.authentication.tokens import AUDIENCE, ISSUER, _signing_key
from apps.vendors.tests.factories import StoreFactory, VendorFactory

pytestmark = pytest.mark.django_db

V2_ME = "/api/v2/auth/me/"
V1_STORE = "/api/v1/vendor/store/"


def _claims(user: User, session_id: str, **changes: Any) -> dict[str, Any]:
    now = timezone.now()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": "access",
        "sub": str(user.pk),
        "sid": session_id,
        "role": user.role,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def vendor_tokens(api: Api) -> dict[str, Any]:
    vendor = VendorFactory.create(email="vic@example.com")
    StoreFactory.create(owner=vendor, name="Vic's")
    response = api.post(
        "/api/v2/auth/login/", {"email": "vic@example.com", "password": "a-Strong-pass-9"}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _assert_refused(api: Api, token: str, code: str = "token_invalid") -> None:
    for path in (V2_ME, V1_STORE):
        response = api.get(path, token=token)
        assert response.status_code == 401, (path, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert response.json()["code"] == code, path


def test_the_same_access_token_works_on_both_layers(
    api: Api, vendor_tokens: dict[str, Any]
) -> None:
    v2 = api.get(V2_ME, token=vendor_tokens["access"])
    v1 = api.get(V1_STORE, token=vendor_tokens["access"])

    assert v2.status_code == 200 and v2.json()["email"] == "vic@example.com"
    assert v1.status_code == 200 and v1.json()["name"] == "Vic's"


def test_no_token_is_401_on_both_layers(api: Api) -> None:
    assert api.get(V2_ME).status_code == 401
    response = api.get(V1_STORE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_refused(
    api: Api, vendor_tokens: dict[str, Any], time_machine: Any
) -> None:
    time_machine.move_to(timezone.now() + timedelta(seconds=vendor_tokens["expires_in"] + 1))

    _assert_refused(api, vendor_tokens["access"], code="token_expired")


def test_a_token_with_a_changed_payload_is_refused(api: Api, vendor_tokens: dict[str, Any]) -> None:
    header, payload, signature = vendor_tokens["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(int(claims["sub"]) + 1)
    claims["role"] = "staff"

    _assert_refused(api, f"{header}.{_b64(claims)}.{signature}")


def test_a_token_with_a_flipped_signature_is_refused(
    api: Api, vendor_tokens: dict[str, Any]
) -> None:
    token = vendor_tokens["access"]
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    _assert_refused(api, flipped)


def test_an_unsigned_alg_none_token_is_refused(api: Api, vendor_tokens: dict[str, Any]) -> None:
    vendor = User.objects.get(email="vic@example.com")
    session_id = str(AuthSession.objects.get(user=vendor).pk)
    claims = _claims(vendor, session_id, iat=0, exp=4102444800)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    _assert_refused(api, unsigned)


def test_tokens_signed_with_another_key_or_algorithm_are_refused(
    api: Api, vendor_tokens: dict[str, Any]
) -> None:
    vendor = User.objects.get(email="vic@example.com")
    session_id = str(AuthSession.objects.get(user=vendor).pk)
    claims = _claims(vendor, session_id)

    _assert_refused(
        api, jwt.encode(claims, "a-guessed-secret-of-thirty-two-bytes!", algorithm="HS256")
    )
    _assert_refused(api, jwt.encode(claims, _signing_key(), algorithm="HS512"))
    # The right key and algorithm but not an access token (wrong type, wrong audience).
    _assert_refused(
        api, jwt.encode({**claims, "typ": "refresh"}, _signing_key(), algorithm="HS256")
    )
    _assert_refused(api, jwt.encode({**claims, "aud": "other"}, _signing_key(), algorithm="HS256"))
    # Control: the same claims, properly signed, are accepted.
    good = jwt.encode(claims, _signing_key(), algorithm="HS256")
    assert api.get(V2_ME, token=good).status_code == 200


def test_garbage_and_malformed_headers_are_refused(api: Api) -> None:
    _assert_refused(api, "not-a-jwt")
    response = api.client.get(V1_STORE, HTTP_AUTHORIZATION="Bearer a b")
    assert response.status_code == 401


def test_refresh_rotates_the_pair(api: Api, tokens: dict[str, Any]) -> None:
    response = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert response.status_code == 200
    fresh = response.json()
    assert fresh["refresh"] != tokens["refresh"] and fresh["access"] != tokens["access"]
    assert api.get(V2_ME, token=fresh["access"]).status_code == 200
    again = api.post("/api/v2/auth/token/refresh/", {"refresh": fresh["refresh"]})
    assert again.status_code == 200


def test_a_replayed_refresh_token_ends_the_whole_session(api: Api, tokens: dict[str, Any]) -> None:
    fresh = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()

    replay = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_reused"
    # The legitimate holder's newer tokens die with the session.
    assert api.post("/api/v2/auth/token/refresh/", {"refresh": fresh["refresh"]}).status_code == 401
    _assert_refused(api, fresh["access"], code="token_revoked")


def test_logout_revokes_refresh_and_access_tokens(api: Api, tokens: dict[str, Any]) -> None:
    other_device = api.post(
        "/api/v2/auth/login/", {"email": "grace@example.com", "password": "a-Strong-pass-9"}
    ).json()

    response = api.post("/api/v2/auth/logout/", {"refresh": tokens["refresh"]})

    assert response.status_code == 204
    assert (
        api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    )
    assert api.get(V2_ME, token=tokens["access"]).status_code == 401
    assert api.get(V2_ME, token=other_device["access"]).status_code == 200  # other session lives
    assert api.post("/api/v2/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204


def test_an_expired_refresh_token_is_refused(
    api: Api, tokens: dict[str, Any], time_machine: Any
) -> None:
    time_machine.move_to(timezone.now() + timedelta(days=14, seconds=1))

    response = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert response.status_code == 401
    assert response.json()["code"] == "refresh_invalid"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v2/auth/token/refresh/", {}),
        ("/api/v2/auth/token/refresh/", {"refresh": "short"}),
        ("/api/v2/auth/logout/", {}),
        ("/api/v2/auth/logout/", {"refresh": 12}),
    ],
)
def test_refresh_and_logout_bad_input_name_the_field(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    response = api.post(path, body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "refresh"


def test_an_unknown_refresh_token_is_401(api: Api, db: None) -> None:
    response = api.post("/api/v2/auth/token/refresh/", {"refresh": "x" * 43})
    assert response.status_code == 401


def test_a_deactivated_account_loses_its_tokens(api: Api, tokens: dict[str, Any]) -> None:
    user = User.objects.get(email="grace@example.com")
    user.is_active = False
    user.save()

    # Both layers load the account where they need it; refresh checks it too.
    assert api.get(V1_STORE, token=tokens["access"]).status_code == 401
    assert api.get(V2_ME, token=tokens["access"]).status_code == 401
    assert (
        api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    )
