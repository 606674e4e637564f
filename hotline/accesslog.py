"""What may not be written to a log: the secrets that travel in URLs, and gunicorn's access log
with them taken out.

A citizen's status look-up carries the last digits of their phone (`?phone_tail=NNNN`), a
survey link carries the token that lets its holder answer (`/survey/<token>`), WeChat's
callbacks carry the citizen's openid and a signature. `redact` replaces each of those with
`[redacted]`, wherever it is in a request line, path, query string or referer.

gunicorn writes its access log through `RedactingLogger` (`--logger-class
hotline.accesslog.RedactingLogger`, as `hotline run` starts it): every value a log format can
name (request line, path, query, referer, headers, environ) is redacted first, and the
Authorization and Cookie headers are never written.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

#: Query parameters whose values are secrets or identify a person.
SECRET_PARAMS = ("phone_tail", "token", "openid", "signature", "msg_signature", "code")
#: Path prefixes followed by a secret segment.
SECRET_PATHS = ("/survey/",)
#: Request headers never written.
SECRET_HEADERS = ("authorization", "cookie", "x-twilio-signature")

REDACTED = "[redacted]"
_PARAM = re.compile(r"(?i)(?<![\w])(" + "|".join(SECRET_PARAMS) + r")=[^&\s\"#]*")
_PATH = re.compile("(" + "|".join(map(re.escape, SECRET_PATHS)) + r")[^/?\s\"#]+")


def redact(text: str) -> str:
    """`text` with the secrets of any URL in it replaced by [redacted]."""
    if "=" in text:
        text = _PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    if "/" in text:
        text = _PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingLogger(Logger):
    """gunicorn's logger, whose access log never holds a secret of `redact`."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key[1:-2] in SECRET_HEADERS and key.endswith("}i"):
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
