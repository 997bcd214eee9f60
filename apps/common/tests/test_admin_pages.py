"""Every page the admin index links to opens for staff."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.authentication.models import User

pytestmark = pytest.mark.django_db


def test_every_admin_page_linked_from_the_index_opens(client: Client) -> None:
    admin = User.objects.create_superuser(email="root@example.com", password="x" * 12)
    client.force_login(admin)

    index = client.get("/admin/")
    assert index.status_code == 200
    links = sorted(set(re.findall(r'href="(/admin/[^"#?]+/)"', index.content.decode())))
    pages = [link for link in links if link.count("/") >= 4]  # app/model/ and app/model/add/

    assert len(pages) > 20, links
    broken = {}
    for page in pages:
        response = client.get(page)
        if response.status_code != 200:
            broken[page] = response.status_code
    assert broken == {}
