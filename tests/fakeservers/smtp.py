"""A local SMTP server that speaks enough of RFC 5321 for ``smtplib``: EHLO/HELO, MAIL, RCPT,
DATA (with dot-unstuffing), RSET, NOOP, QUIT, and AUTH PLAIN when a user is set.

It keeps every message it accepted (``messages``: envelope and the parsed ``EmailMessage``), can
refuse recipients (``refuse(address)`` answers 550 to RCPT) and can drop the connection after
DATA without answering (``drop_next_data``) so "maybe sent" paths can be tested.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Self


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_content()


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        fake = self.server.fake
        self.reply("220 fake-smtp ready")
        mail_from, rcpt, authed = None, [], fake.user is None
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                extras = ["AUTH PLAIN"] if fake.user else []
                lines = ["fake-smtp", "8BITMIME", "SMTPUTF8", *extras]
                for i, text in enumerate(lines):
                    self.reply(f"250{'-' if i < len(lines) - 1 else ' '}{text}")
            elif verb == "HELO":
                self.reply("250 fake-smtp")
            elif verb == "AUTH":
                mech, _, data = arg.partition(" ")
                parts = base64.b64decode(data).split(b"\0") if data else []
                if mech.upper() == "PLAIN" and len(parts) == 3 and \
                        (parts[1].decode(), parts[2].decode()) == (fake.user, fake.password):
                    authed = True
                    self.reply("235 2.7.0 Authentication successful")
                else:
                    self.reply("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                if not authed:
                    self.reply("530 5.7.0 Authentication required")
                    continue
                mail_from, rcpt = _address(arg), []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = _address(arg)
                if address.lower() in fake.refused:
                    self.reply(f"550 5.1.1 <{address}>: Recipient address rejected")
                else:
                    rcpt.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                if not rcpt:
                    self.reply("503 5.5.1 No valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = bytearray()
                while True:
                    chunk = self.rfile.readline(1 << 20)
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                if fake.take_drop():
                    return  # cut off: the client never hears whether it went through
                message = BytesParser(policy=policy.default).parsebytes(bytes(body))
                with fake.lock:
                    fake.messages.append(ReceivedMail(mail_from or "", list(rcpt), message))
                mail_from, rcpt = None, []
                self.reply("250 2.0.0 OK queued")
            elif verb in ("RSET", "NOOP"):
                mail_from, rcpt = (None, []) if verb == "RSET" else (mail_from, rcpt)
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")


def _address(arg: str) -> str:
    start, end = arg.find("<"), arg.find(">")
    return arg[start + 1:end] if 0 <= start < end else arg.split(":", 1)[-1].strip()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSMTP


class FakeSMTP:
    """``with FakeSMTP() as smtp:`` — ``smtp.host``, ``smtp.port``, ``smtp.messages``."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user, self.password = user, password
        self.messages: list[ReceivedMail] = []
        self.refused: set[str] = set()
        self.lock = threading.Lock()
        self._drops = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def drop_next_data(self, count: int = 1) -> None:
        self._drops += count

    def take_drop(self) -> bool:
        with self.lock:
            if self._drops:
                self._drops -= 1
                return True
            return False

    def sent_to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.messages if address in m.rcpt_to]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
