"""Fixtures of the phone channel's tests: an app that knows its Twilio auth token and public URL,
and a client that sends webhooks the way Twilio does — form POSTs signed with the real
`RequestValidator` over the public URL."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-twilio-auth-token-0123456789"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
PUBLIC_BASE = "https://12345.guizhou.gov.cn"
FUPIN = "+8685186833668"
ZHITONGCHE = "+8685186894627"
CALLER = "+8613985012345"


@pytest.fixture
def phone_app(app: Any) -> Any:
    app.config.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      PUBLIC_BASE_URL=PUBLIC_BASE)
    return app


@dataclass
class TwilioWebhooks:
    """Sends signed webhooks to /channels/twilio/... and keeps the TwiML answers parsed."""

    client: Any
    base: str = PUBLIC_BASE
    token: str = AUTH_TOKEN
    sent: list[tuple[str, dict]] = field(default_factory=list)

    def sign(self, path: str, params: dict[str, str], token: str | None = None) -> str:
        return RequestValidator(token or self.token).compute_signature(self.base + path, params)

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None,
             headers: dict[str, str] | None = None, **kw: Any):
        full = path if path.startswith("/channels/") else "/channels/twilio" + path
        sig = self.sign(full, params) if signature is None else signature
        self.sent.append((full, params))
        return self.client.post(full, data=params,
                                headers={"X-Twilio-Signature": sig, **(headers or {})}, **kw)

    def twiml(self, path: str, params: dict[str, str], **kw: Any) -> ET.Element:
        resp = self.post(path, params, **kw)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.mimetype == "text/xml"
        root = ET.fromstring(resp.get_data())
        assert root.tag == "Response"
        return root


@pytest.fixture
def twilio(phone_app: Any) -> TwilioWebhooks:
    return TwilioWebhooks(phone_app.test_client())


def call_params(sid: str, *, to: str = FUPIN, caller: str = CALLER, **extra: str) -> dict:
    """The standard parameters Twilio sends with every voice webhook of an incoming call."""
    return {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": caller, "To": to,
            "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
            "FromCountry": "CN", "ToCountry": "CN", **extra}


def sms_params(sid: str, body: str, *, to: str = FUPIN, sender: str = CALLER,
               **extra: str) -> dict:
    return {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "SmsSid": sid, "From": sender,
            "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "ApiVersion": "2010-04-01", **extra}


def says(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter("Say")]


def spoken(root: ET.Element) -> str:
    return "".join(el.text or "" for el in root.iter("Say"))


def verbs(root: ET.Element) -> list[str]:
    return [el.tag for el in root]


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) instant, as an aware UTC datetime."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=dt.timezone(dt.timedelta(hours=8))) \
        .astimezone(dt.UTC)
