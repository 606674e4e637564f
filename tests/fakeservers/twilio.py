"""A local server that speaks enough of Twilio's REST API (2010-04-01) for ``twilio.rest.Client``.

Covered: create, fetch and list Messages and Calls under ``/2010-04-01/Accounts/{sid}/``, a
recording's audio (``Recordings/{sid}.wav``, kept with ``add_recording``), HTTP
basic auth with the account sid and auth token, Twilio's error JSON (``code``, ``message``,
``more_info``, ``status``) and the validation errors a sender meets most (21211 invalid 'To',
21604/21602 missing To/Body, 21617 body too long, 21205 call without Url/Twiml, 21610
unsubscribed recipient when told so). Nothing is delivered: created resources stay "queued"
unless a test moves them on with ``set_status``.

Point a client at it with ``channels.senders.RebasingHttpClient(fake.url)``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from ._http import FakeHTTPServer, RecordedRequest, Reply

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Characters of the GSM 03.38 default alphabet; anything else (all Chinese) makes Twilio encode
# the SMS as UCS-2, which changes how many segments a message costs.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21205: "Url parameter is required.",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


def twilio_error(status: int, code: int, message: str | None = None) -> Reply:
    """A reply in Twilio's (legacy, still current for the 2010 API) error format."""
    return Reply.json(
        status,
        {
            "code": code,
            "message": message or ERROR_MESSAGES.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def sms_segments(body: str) -> int:
    """How many SMS parts Twilio would bill for this body."""
    if all(ch in GSM7 for ch in body):
        single, multi = 160, 153
    else:
        single, multi = 70, 67
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)


class FakeTwilio(FakeHTTPServer):
    """Fake Twilio REST API. ``messages`` and ``calls`` hold the created resources (newest last)."""

    def __init__(
        self,
        account_sid: str = "AC" + "0123456789abcdef" * 2,
        auth_token: str = "fake-twilio-auth-token",
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        # Numbers that answered STOP: Twilio refuses further SMS to them with 21610.
        self.unsubscribed: set[str] = set()
        # Audio of call recordings by RecordingSid, served at .../Recordings/{sid}.wav.
        self.recordings: dict[str, bytes] = {}

    def config(self) -> dict[str, str]:
        """The app's settings that point its Twilio senders at this fake."""
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_API_BASE": self.url}

    # -- test controls -----------------------------------------------------------------------

    def fail_next(  # type: ignore[override]
        self,
        n: int = 1,
        *,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        path: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``n`` requests with a Twilio error.

        ``fake.fail_next()`` gives a 500; ``fake.fail_next(status=400, code=21211)`` the
        invalid-'To' error. ``path`` (e.g. ``"Messages.json"``) limits it to matching requests.
        """
        if code is None:
            code = {401: 20003, 404: 20404, 429: 20429}.get(
                status, 20500 if status >= 500 else status
            )
        super().fail_next(n, reply=twilio_error(status, code, message), path=path, delay=delay)

    def add_recording(self, sid: str, audio: bytes) -> str:
        """Keep a recording's audio; returns its URL as Twilio's webhooks give it (no
        extension), on api.twilio.com like the real one."""
        with self._lock:
            self.recordings[sid] = audio
        return f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def unsubscribe(self, *numbers: str) -> None:
        self.unsubscribed.update(numbers)

    def set_status(self, sid: str, status: str) -> None:
        """Move a message or call on (e.g. to "delivered" or "completed")."""
        with self._lock:
            for resource in self.messages + self.calls:
                if resource["sid"] == sid:
                    resource["status"] = status
                    if status in ("sent", "delivered") and resource.get("date_sent") is None:
                        resource["date_sent"] = _rfc2822(datetime.now(UTC))
                    return
        raise KeyError(sid)

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.messages.clear()
            self.calls.clear()
            self.unsubscribed.clear()
            self.recordings.clear()

    # -- the API -----------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        recording = re.fullmatch(rf"/{API_VERSION}/Accounts/([^/]+)/Recordings/([^/.]+)\.wav",
                                 request.path)
        if recording is not None:
            return self._recording(request, *recording.groups())
        match = re.fullmatch(
            rf"/{API_VERSION}/Accounts/([^/]+)/(Messages|Calls)(?:/([^/]+))?\.json", request.path
        )
        if match is None:
            return twilio_error(404, 20404)
        if request.basic_auth != (self.account_sid, self.auth_token):
            return twilio_error(401, 20003)
        account, collection, sid = match.groups()
        if account != self.account_sid:
            return twilio_error(404, 20404)
        store = self.messages if collection == "Messages" else self.calls
        if sid is not None:
            if request.method != "GET":
                return twilio_error(405, 20004, "Method not allowed")
            found = next((r for r in store if r["sid"] == sid), None)
            return Reply.json(200, found) if found else twilio_error(404, 20404)
        if request.method == "GET":
            return self._list(request, collection, store)
        if request.method != "POST":
            return twilio_error(405, 20004, "Method not allowed")
        if collection == "Messages":
            return self._create_message(request.form)
        return self._create_call(request.form)

    def _recording(self, request: RecordedRequest, account: str, sid: str) -> Reply:
        if request.basic_auth != (self.account_sid, self.auth_token):
            return twilio_error(401, 20003)
        if account != self.account_sid or sid not in self.recordings:
            return twilio_error(404, 20404)
        return Reply(200, self.recordings[sid], "audio/x-wav")

    def _base(self, prefix: str, collection: str) -> dict[str, Any]:
        now = _rfc2822(datetime.now(UTC))
        sid = prefix + uuid.uuid4().hex
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": now,
            "date_updated": now,
            "sid": sid,
            "status": "queued",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/{collection}/{sid}.json",
        }

    def _create_message(self, form: dict[str, str]) -> Reply:
        to = form.get("To", "")
        body = form.get("Body", "")
        if not to:
            return twilio_error(400, 21604)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603)
        if not body and not form.get("MediaUrl"):
            return twilio_error(400, 21602)
        if not E164.match(to):
            return twilio_error(400, 21211, ERROR_MESSAGES[21211].format(to=to))
        if len(body) > 1600:
            return twilio_error(400, 21617)
        if to in self.unsubscribed:
            return twilio_error(400, 21610)
        message = self._base("SM", "Messages") | {
            "body": body,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "to": to,
            # Not part of Twilio's answer; kept so tests can check the callback URL that was set.
            "_status_callback": form.get("StatusCallback"),
        }
        message["subresource_uris"] = {
            "media": message["uri"].replace(".json", "/Media.json"),
            "feedback": message["uri"].replace(".json", "/Feedback.json"),
        }
        self.messages.append(message)
        return Reply.json(201, _public(message))

    def _create_call(self, form: dict[str, str]) -> Reply:
        to = form.get("To", "")
        if not to:
            return twilio_error(400, 21201, "No 'To' number is specified")
        if not form.get("From"):
            return twilio_error(400, 21213, "No 'From' number is specified")
        if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
            return twilio_error(400, 21205)
        if not E164.match(to):
            return twilio_error(400, 21211, ERROR_MESSAGES[21211].format(to=to))
        call = self._base("CA", "Calls") | {
            "answered_by": None,
            "caller_name": None,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form.get("From"),
            "from_formatted": form.get("From"),
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "start_time": None,
            "to": to,
            "to_formatted": to,
            "_url": form.get("Url"),
            "_twiml": form.get("Twiml"),
            "_status_callback": form.get("StatusCallback"),
        }
        self.calls.append(call)
        return Reply.json(201, _public(call))

    def _list(self, request: RecordedRequest, collection: str, store: list[dict]) -> Reply:
        query = request.query
        # Twilio lists newest first.
        rows = [
            _public(r)
            for r in reversed(store)
            if (not query.get("To") or r["to"] == query["To"])
            and (not query.get("From") or r["from"] == query["From"])
        ]
        page_size = int(query.get("PageSize") or 50)
        uri = request.path
        return Reply.json(
            200,
            {
                collection.lower(): rows[:page_size],
                "end": max(min(len(rows), page_size) - 1, 0),
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            },
        )


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}
