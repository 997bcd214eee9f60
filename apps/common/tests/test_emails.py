"""Transactional emails: subject, plain text and HTML rendered from templates, sent once."""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.template import TemplateDoesNotExist

from apps.common.emails import render_templated_email, send_templated_email

CODE = "041937"
EXPIRES_AT = datetime(2026, 3, 14, 14, 5, tzinfo=UTC)
CHANGED_AT = datetime(2026, 3, 14, 9, 41, tzinfo=UTC)
CODE_TEMPLATES = [
    "accounts/registration_code",
    "accounts/password_reset_code",
    "accounts/login_code",
]
ALL_TEMPLATES = [*CODE_TEMPLATES, "accounts/password_changed"]


def context_for(template: str, **overrides: Any) -> dict[str, Any]:
    if template == "accounts/password_changed":
        context: dict[str, Any] = {"full_name": "Ada Obi", "changed_at": CHANGED_AT}
    else:
        context = {
            "full_name": "Ada Obi",
            "code": CODE,
            "expires_minutes": 10,
            "expires_at": EXPIRES_AT,
        }
    return {**context, **overrides}


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_subject_is_one_branded_line_without_the_code(template: str) -> None:
    subject, _, _ = render_templated_email(template=template, context=context_for(template))

    assert subject
    assert subject == subject.strip()
    assert "\n" not in subject and "\r" not in subject
    assert "FASHIONISTAR" in subject
    # Subjects show on lock screens and in notification previews.
    assert CODE not in subject


@pytest.mark.parametrize("template", CODE_TEMPLATES)
def test_text_part_has_code_and_expiry(template: str) -> None:
    _, text, _ = render_templated_email(template=template, context=context_for(template))

    assert re.search(rf"^\s*{CODE}\s*$", text, re.MULTILINE), "the code sits on its own line"
    assert "10 minutes" in text
    assert "14:05 UTC" in text
    assert "Hi Ada Obi," in text
    assert "<" not in text, "the plain-text part carries no markup"


@pytest.mark.parametrize("template", CODE_TEMPLATES)
def test_html_part_has_code_and_expiry(template: str) -> None:
    _, _, html = render_templated_email(template=template, context=context_for(template))

    assert f">{CODE}</span>" in html
    assert "10 minutes" in html
    assert "14:05 UTC" in html


def test_password_changed_shows_when_and_what_to_do() -> None:
    template = "accounts/password_changed"
    _, text, html = render_templated_email(template=template, context=context_for(template))

    for part in (text, html):
        assert "14 March 2026 at 09:41 UTC" in part
        assert "reset your password now" in part


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_html_is_self_contained_email_html(template: str) -> None:
    _, _, html = render_templated_email(template=template, context=context_for(template))

    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<table" in html and 'role="presentation"' in html
    assert "max-width:600px" in html
    assert "font-size:16px" in html
    assert "You received this because" in html
    # Mail clients drop <style> blocks and block remote content.
    assert "<style" not in html.lower()
    assert 'style="' in html
    assert "src=" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html.lower()


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_html_escapes_the_name_but_text_does_not(template: str) -> None:
    name = "<script>alert('x')</script>"
    _, text, html = render_templated_email(
        template=template, context=context_for(template, full_name=name)
    )

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # Plain text is not HTML: entities there would show up literally.
    assert f"Hi {name}," in text


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_missing_name_greets_generically(template: str) -> None:
    _, text, html = render_templated_email(
        template=template, context=context_for(template, full_name="")
    )

    assert "Hi there," in text
    assert "Hi there," in html


def test_common_context_is_available(settings: Any) -> None:
    settings.SUPPORT_EMAIL = "help@fashionistar.example"
    template = "accounts/login_code"
    _, text, html = render_templated_email(template=template, context=context_for(template))

    support = "help@fashionistar.example"
    year = str(datetime.now(tz=UTC).year)
    for part in (text, html):
        assert support in part
        assert year in part
    assert f'href="mailto:{support}"' in html


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_send_puts_one_message_with_both_parts_in_the_outbox(
    template: str, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    send_templated_email(to="ada@example.com", template=template, context=context_for(template))

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    subject, text, html = render_templated_email(template=template, context=context_for(template))
    assert message.to == ["ada@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == subject
    assert message.body == text
    assert message.content_subtype == "plain"
    assert len(message.alternatives) == 1
    content, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert content == html
    # The message must also serialise: headers valid, both parts present.
    raw = message.message().as_string()
    assert "multipart/alternative" in raw


def test_missing_template_raises_and_sends_nothing(
    mailoutbox: list[EmailMultiAlternatives],
) -> None:
    with pytest.raises(TemplateDoesNotExist):
        send_templated_email(to="ada@example.com", template="accounts/no_such_email", context={})

    assert mailoutbox == []


def test_delivery_errors_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(LocmemBackend, "send_messages", refuse)
    template = "accounts/login_code"

    with pytest.raises(smtplib.SMTPServerDisconnected):
        send_templated_email(to="ada@example.com", template=template, context=context_for(template))
