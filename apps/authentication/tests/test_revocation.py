"""Revocation is durable: the database says which sessions ended, the cache only spares
it a query. A flushed cache, a restarted process (its local-memory cache gone) or an
unreachable cache never lets a logged-out token — or one of a session ended by a reused
refresh token — back in, on either layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.authentication.models import AuthSession
from apps.authentication.tests.conftest import Api
from apps.authentication.tokens import access_token_decode, session_state_keys

pytestmark = pytest.mark.django_db

V2_ME = "/api/v2/auth/me/"
V1_STORE = "/api/v1/vendor/store/"
UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def _status(api: Api, token: str) -> tuple[int, int]:
    # v1's store endpoint answers 403 to a customer: authenticated, not allowed there.
    return api.get(V2_ME, token=token).status_code, api.get(V1_STORE, token=token).status_code


@pytest.fixture(params=["logout", "refresh token reused"])
def signed_out(request: pytest.FixtureRequest, api: Api, tokens: dict[str, Any]) -> Iterator[str]:
    """An access token of a session that ended: by logout, or because a refresh token was
    used twice (the session's newest access token dies with it)."""
    if request.param == "logout":
        assert api.post("/api/v2/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
        yield tokens["access"]
        return
    fresh = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()
    replay = api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert replay.status_code == 401
    yield fresh["access"]


def test_a_logged_out_token_stays_refused_after_the_cache_is_flushed(
    api: Api, signed_out: str
) -> None:
    cache.clear()  # a flushed Redis, or `make run` restarted with its local-memory cache

    assert _status(api, signed_out) == (401, 401)


def test_a_logged_out_token_stays_refused_when_the_cache_is_unreachable(
    api: Api, signed_out: str, tokens: dict[str, Any]
) -> None:
    with override_settings(CACHES=UNREACHABLE):
        assert _status(api, signed_out) == (401, 401)


def test_logout_while_the_cache_is_down_still_ends_the_session(
    api: Api, tokens: dict[str, Any]
) -> None:
    with override_settings(CACHES=UNREACHABLE):
        assert api.post("/api/v2/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
        assert _status(api, tokens["access"]) == (401, 401)
    cache.clear()

    assert _status(api, tokens["access"]) == (401, 401)


def test_a_live_session_works_from_the_database_when_the_cache_cannot_tell(
    api: Api, tokens: dict[str, Any]
) -> None:
    cache.clear()
    assert _status(api, tokens["access"]) == (200, 403)
    with override_settings(CACHES=UNREACHABLE):
        assert _status(api, tokens["access"]) == (200, 403)


def test_the_database_is_asked_once_then_the_cache_answers(
    api: Api, tokens: dict[str, Any]
) -> None:
    session_id = access_token_decode(tokens["access"]).session_id
    cache.delete_many(session_state_keys(session_id))

    with CaptureQueriesContext(connection) as cold:
        assert api.get(V2_ME, token=tokens["access"]).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert api.get(V2_ME, token=tokens["access"]).status_code == 200

    session_reads = [q for q in cold.captured_queries if AuthSession._meta.db_table in q["sql"]]
    assert len(session_reads) == 1
    assert not [q for q in warm.captured_queries if AuthSession._meta.db_table in q["sql"]]
