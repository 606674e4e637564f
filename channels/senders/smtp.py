"""E-mail through SMTP (smtplib): notices to departments' contact addresses."""

from __future__ import annotations

import logging
import smtplib
import socket
from email.message import EmailMessage

from .base import (
    DEFAULT_TIMEOUT,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
    _mask,
)

logger = logging.getLogger(__name__)


# -- e-mail -------------------------------------------------------------------------------------

#: SMTP reply codes a later try may cure (mailbox busy, server short of resources, …).
_SMTP_TRANSIENT = range(400, 500)


class EmailSender:
    """Plain-text UTF-8 e-mail through an SMTP server (``smtplib``), for department contacts.

    SMTP has no way to ask whether an earlier, cut-off message was delivered, so a connection
    lost after the DATA command is a "maybe sent" error the relay hands to staff (like WeChat);
    a refusal before DATA means nothing went out.
    """

    def __init__(self, host: str, port: int = 25, *, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def message(self, msg: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = msg.to
        first = msg.text.split("。", 1)[0]
        mail["Subject"] = first if len(first) <= 60 else first[:59] + "…"
        mail["Message-ID"] = f"<outbox-{msg.key}@{self.sender.rpartition('@')[2] or 'hotline'}>"
        mail.set_content(msg.text, charset="utf-8")
        return mail

    def send(self, msg: OutboundMessage) -> SendResult:
        mail = self.message(msg)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.ehlo_or_helo_if_needed()
                code, reply = smtp.mail(self.sender)
                if code != 250:
                    raise _smtp_error(code, reply, "sender refused")
                code, reply = smtp.rcpt(msg.to)
                if code not in (250, 251):
                    raise _smtp_error(code, reply, "recipient refused")
                code, reply = smtp.data(mail.as_bytes())
                if code != 250:
                    raise _smtp_error(code, reply, "message refused")
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientSendError(
                f"SMTP login refused (check SMTP_USERNAME/SMTP_PASSWORD): {exc.smtp_code}",
                code=exc.smtp_code) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientSendError(f"SMTP connection lost: {exc}", maybe_sent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise _smtp_error(exc.smtp_code, exc.smtp_error, "refused") from exc
        except (TimeoutError, OSError) as exc:
            # Before DATA nothing can have gone out; smtplib does not say how far it got, so a
            # timeout counts as "maybe" (the relay then leaves the decision to staff).
            never = isinstance(exc, ConnectionRefusedError | socket.gaierror)
            raise TransientSendError(f"SMTP server unreachable: {exc}",
                                     maybe_sent=not never) from exc
        logger.info("e-mail %s to %s accepted by %s", msg.key, _mask(msg.to), self.host)
        return SendResult(provider_id=str(mail["Message-ID"]), detail="smtp 250")


def _smtp_error(code: int, reply: bytes | str, what: str) -> SendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code} {what}: {text}"
    if code in _SMTP_TRANSIENT:
        return TransientSendError(reason, code=code)
    return PermanentSendError(reason, code=code)


