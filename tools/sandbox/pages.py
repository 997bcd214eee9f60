"""The hosted payment page: self-contained HTML (inline style, no script, no external
asset), with Pay and Decline buttons posting back to the same URL."""

from __future__ import annotations

import html

from tools.sandbox.common import JSON, Reply, Txn

# Forbids loading anything from anywhere, so the page stays self-contained.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f1ee;margin:0;padding:2rem;color:#222}}
main{{max-width:26rem;margin:auto;background:#fff;border-radius:12px;padding:1.5rem;
box-shadow:0 2px 12px rgba(0,0,0,.08)}}
h1{{font-size:1.2rem;margin-top:0}}
dl{{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}}
dt{{color:#666}} dd{{margin:0;word-break:break-all}}
.amount{{font-size:1.8rem;font-weight:600}}
form{{display:flex;gap:.75rem;margin-top:1.25rem}}
button{{flex:1;padding:.7rem;border:0;border-radius:8px;font-size:1rem;cursor:pointer}}
.pay{{background:#1a7f37;color:#fff}} .decline{{background:#eee;color:#a40e26}}
.note{{color:#666;font-size:.85rem}}
</style></head><body><main>
"""
_TAIL = "</main></body></html>"


def html_reply(status: int, page: str) -> Reply:
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return Reply(status, page.encode(), "text/html; charset=utf-8", headers)


def money_text(amount: int, currency: str) -> str:
    # Display only; integer arithmetic keeps it exact.
    return f"{currency} {amount // 100:,}.{amount % 100:02d}"


def pay_page(view: JSON, provider: str, ident: str) -> str:
    esc = html.escape
    rows = "".join(
        f"<dt>{esc(label)}</dt><dd>{esc(str(value))}</dd>"
        for label, value in (
            ("Provider", provider.title()),
            ("Reference", view["reference"]),
            ("Payment id", view["provider_id"]),
            ("Status", view["state"]),
        )
    )
    if view["state"] == "succeeded":
        actions = "<p>This payment is complete.</p>"
    elif view["state"] == "failed" and provider == "paystack":
        actions = "<p>This transaction failed; start a new payment from the shop.</p>"
    else:
        action = esc(f"/pay/{provider}/{ident}")
        actions = (
            f'<form method="post" action="{action}">'
            '<button class="pay" type="submit" name="outcome" value="success">Pay</button>'
            '<button class="decline" type="submit" name="outcome" value="decline">'
            "Decline</button></form>"
        )
    return (
        _HEAD.format(title=f"Pay with {esc(provider.title())} (sandbox)")
        + "<h1>FASHIONISTAR checkout</h1>"
        + f'<p class="amount">{esc(money_text(view["amount"], view["currency"]))}</p>'
        + f"<dl>{rows}</dl>{actions}"
        + '<p class="note">Sandbox: no card is charged. Pay or Decline sends the signed '
        "webhook to the shop.</p>" + _TAIL
    )


def result_page(result: JSON, back: str) -> str:
    esc = html.escape
    items = "".join(
        f"<li>{esc(w['type'])} to {esc(w['url'])}: "
        f"{'delivered' if w['delivered'] else 'not delivered'} "
        f"({esc(str(w['status'] or w['error'] or 'recorded only'))})</li>"
        for w in result["webhooks"]
    )
    link = f'<p><a href="{esc(back)}">Return to the shop</a></p>' if back else ""
    title = "Payment successful" if result["outcome"] == "success" else "Payment declined"
    return (
        _HEAD.format(title=esc(title))
        + f"<h1>{esc(title)}</h1><p>Reference {esc(result['reference'])}</p>"
        + f"<p>Webhooks:</p><ul>{items or '<li>none sent</li>'}</ul>{link}"
        + _TAIL
    )


def message_page(title: str, message: str) -> str:
    esc = html.escape
    return _HEAD.format(title=esc(title)) + f"<h1>{esc(title)}</h1><p>{esc(message)}</p>" + _TAIL


def return_url(txn: Txn) -> str:
    """Where the provider would send the customer back, with its own query parameters."""
    if not txn.callback_url:
        return ""
    joiner = "&" if "?" in txn.callback_url else "?"
    if txn.provider == "paystack":
        return f"{txn.callback_url}{joiner}trxref={txn.reference}&reference={txn.reference}"
    if txn.provider == "square":
        return f"{txn.callback_url}{joiner}orderId={txn.provider_id}"
    return txn.callback_url
