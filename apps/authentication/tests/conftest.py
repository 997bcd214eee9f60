"""Helpers for the accounts tests: a JSON client that lets each request's transaction
"commit" (so events fire and the emails get sent), and the mailbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.authentication.models import User
from apps.vendors.tests.factories import UserFactory

PASSWORD = "a-Strong-pass-9"
CODE_RE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


@dataclass
class Api:
    client: Client
    capture: Callable[..., Any]

    def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        **headers: str,
    ) -> Any:
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        with self.capture(execute=True):
            return self.client.post(
                path,
                body or {},
                content_type="application/json",
                **headers,  # type: ignore[arg-type]
            )

    def patch(self, path: str, body: dict[str, Any], token: str) -> Any:
        with self.capture(execute=True):
            return self.client.patch(
                path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
            )

    def get(self, path: str, token: str | None = None) -> Any:
        if token:
            return self.client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        return self.client.get(path)


@pytest.fixture
def api(client: Client, django_capture_on_commit_callbacks: Callable[..., Any]) -> Api:
    return Api(client, django_capture_on_commit_callbacks)


def emails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def last_code(address: str) -> str:
    """The code in the latest email to ``address`` (read from the text part)."""
    messages = emails_to(address)
    assert messages, f"no email to {address}"
    found = CODE_RE.search(str(messages[-1].body))
    assert found, messages[-1].body
    return found.group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def register(api: Api, email: str = "ada@example.com", **fields: Any) -> Any:
    body = {"email": email, "password": PASSWORD, "full_name": "Ada Lovelace", **fields}
    return api.post("/api/v2/auth/register/", body)


def login(api: Api, email: str, password: str = PASSWORD) -> Any:
    return api.post("/api/v2/auth/login/", {"email": email, "password": password})


@pytest.fixture
def verified_user(db: None) -> User:
    return UserFactory.create(email="grace@example.com")  # password: PASSWORD


@pytest.fixture
def tokens(api: Api, verified_user: User) -> dict[str, Any]:
    response = login(api, verified_user.email)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def outbox() -> Iterator[list[mail.EmailMessage]]:
    yield mail.outbox
