"""A small recording HTTP server that the fake Twilio and WeChat servers build on.

It listens on 127.0.0.1 with an ephemeral port, answers from a thread per connection, keeps
every request it received (so a test can assert what the code under test sent) and can be told
to fail or stall the next requests (so retry and "maybe sent" paths can be tested).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

MAX_BODY = 10 * 1024 * 1024


@dataclass
class RecordedRequest:
    """One request as the fake server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None
    # Repeated form or query keys (Twilio's MediaUrl, for instance) keep every value here.
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    query_lists: dict[str, list[str]] = field(default_factory=dict)

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """The (user, password) pair of an HTTP basic Authorization header, if any."""
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        except ValueError:
            return None
        return user, password


@dataclass
class Reply:
    """What a fake endpoint answers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> Reply:
        # ensure_ascii=False: the real services answer Chinese as UTF-8, not \u escapes.
        return cls(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


@dataclass
class _Fault:
    path: str | None
    reply: Reply | None
    delay: float


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as requests' pooled sessions expect.
    protocol_version = "HTTP/1.1"
    # An idle kept-alive connection must not hold a thread forever.
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is the fake's own record, not stderr noise

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        self.server.fake._dispatch(self, body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeHTTPServer


class FakeHTTPServer:
    """Base of the fake servers: lifecycle, recording, injected faults.

    Use as a context manager (``with FakeTwilio() as fake:``) or call ``start()``/``stop()``.
    Subclasses implement ``handle(request) -> Reply``.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Exceptions raised inside the fake itself, so a test can tell a fake's bug from a
        # real failure of the code under test.
        self.errors: list[str] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.RLock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("fake server is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # -- test controls -----------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, reply: Reply, path: str | None = None, delay: float = 0.0
    ) -> None:
        """Answer the next ``n`` requests (whose path contains ``path``, if given) with ``reply``."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault(path, reply, delay))

    def delay_next(self, n: int = 1, *, seconds: float, path: str | None = None) -> None:
        """Stall the next ``n`` requests, then handle them normally.

        A client that gives up meanwhile sees a timeout although the request took effect:
        the "maybe sent" case that reconciliation has to cover.
        """
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault(path, None, seconds))

    def reset(self) -> None:
        """Forget recorded requests and pending faults (subclasses also clear their state)."""
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._faults.clear()

    def requests_to(self, path_part: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path contains ``path_part`` (and with that method)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if path_part in r.path and (method is None or r.method == method.upper())
            ]

    # -- request handling --------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.path is None or fault.path in path:
                    del self._faults[i]
                    return fault
        return None

    def _dispatch(self, handler: _Handler, body: bytes) -> None:
        request = _parse(handler, body)
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.reply is not None:
            reply = fault.reply
        else:
            try:
                with self._lock:
                    reply = self.handle(request)
            except Exception:  # noqa: BLE001 - any bug in a fake must surface in the test
                with self._lock:
                    self.errors.append(traceback.format_exc())
                reply = Reply(500, b"fake server error", "text/plain")
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer to


def _flat(lists: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in lists.items()}


def _parse(handler: _Handler, body: bytes) -> RecordedRequest:
    split = urlsplit(handler.path)
    query_lists = parse_qs(split.query, keep_blank_values=True)
    headers = CaseInsensitiveDict(dict(handler.headers.items()))
    request = RecordedRequest(
        method=handler.command,
        path=split.path,
        query=_flat(query_lists),
        query_lists=query_lists,
        headers=headers,
        body=body,
    )
    content_type = headers.get("Content-Type", "").lower()
    if "application/x-www-form-urlencoded" in content_type:
        request.form_lists = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        request.form = _flat(request.form_lists)
    elif body:
        # wechatpy posts JSON without a JSON content type: try it whatever the header says.
        try:
            request.json = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            request.json = None
    return request
