"""The real URL wiring: health probes, service metadata on both layers, API 404s."""

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_unknown_api_path_is_a_problem_404(client: Client, prefix: str) -> None:
    response = client.get(f"{prefix}/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == "not_found"


def test_non_api_404_stays_html(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("prefix", "layer"), [("/api/v1", "v1"), ("/api/v2", "v2")])
def test_meta_names_the_service_and_layer(client: Client, prefix: str, layer: str) -> None:
    response = client.get(f"{prefix}/meta/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "FASHIONISTAR"
    assert body["api"] == layer
    assert body["environment"] == "test"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_meta_answers_while_settings_are_overridden(
    client: Client, settings: Any, prefix: str
) -> None:
    # Overridden settings have no SETTINGS_MODULE: meta once answered 500 then.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS}

    response = client.get(f"{prefix}/meta/")

    assert response.status_code == 200, response.content
    assert response.json()["environment"] == "test"
