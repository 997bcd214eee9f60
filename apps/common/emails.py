"""Transactional email: three templates per message (subject, plain text, HTML), one send.

A message named ``accounts/login_code`` lives in ``emails/accounts/login_code.subject.txt``,
``emails/accounts/login_code.txt`` and ``emails/accounts/login_code.html`` in any app's
``templates`` directory. The layouts are ``emails/base.txt`` and ``emails/base.html``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

BRAND = "FASHIONISTAR"

# Template tags leave blank lines behind; more than one in a row reads as broken layout.
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


def support_email() -> str:
    """The address customers write to: ``SUPPORT_EMAIL``, else the sender's address."""
    configured: str = getattr(settings, "SUPPORT_EMAIL", "")
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def common_context() -> dict[str, Any]:
    """Variables every email template can use."""
    return {"brand": BRAND, "support_email": support_email(), "year": timezone.now().year}


def render_templated_email(*, template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Render ``emails/<template>`` into ``(subject, text, html)`` without sending anything."""
    # The caller's values win so a message can, say, name a different support address.
    full_context = {**common_context(), **context}
    raw_subject = render_to_string(f"emails/{template}.subject.txt", full_context)
    raw_text = render_to_string(f"emails/{template}.txt", full_context)
    html = render_to_string(f"emails/{template}.html", full_context)
    # A header must be one line: a stray newline would make the mail backend refuse it.
    subject = " ".join(raw_subject.split())
    text = _BLANK_RUNS.sub("\n\n", raw_text).strip() + "\n"
    return subject, text, html


def send_templated_email(*, to: str, template: str, context: Mapping[str, Any]) -> None:
    """Render ``emails/<template>`` and send it to ``to`` as text with an HTML alternative.

    Delivery errors propagate: the caller is a background task that retries.
    """
    subject, text, html = render_templated_email(template=template, context=context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()
