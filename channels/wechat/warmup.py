"""The WeChat channel's part of a process's warm-up (`hotline.warmup`): a sample message from a
citizen, as WeChat posts it to the default account, checked, decrypted and read as the webhook
does, stored in the inbox and answered by the conversation as a worker does — all in a
rehearsal that is rolled back — so that a process's first real message finds OpenSSL's
cipher, the XML parser and every statement of the webhook and the conversation ready."""

from __future__ import annotations

from flask import Flask

from hotline import inbox
from hotline.warmup import rehearsal, rehearse

from .accounts import DEFAULT_CODE, find_account
from .conversation import from_inbox
from .inbound import decrypt, dedupe_key, read_message
from .simulator import Simulator

OPENID = "oWarmUp0000000000000000000000"
SAMPLE = "我们村的通组公路塌方了，车过不去，学生上学要绕很远，请尽快派人修。"


def warm_up(app: Flask) -> None:
    rehearse(app, "WeChat message", _rehearse_message)


def _rehearse_message() -> None:
    account = find_account(DEFAULT_CODE)
    if account is None:
        return  # no default account: no message will come to /channels/wechat
    sim = Simulator(account.token, appid=account.appid, aes_key=account.aes_key,
                    mode="safe" if account.safe_mode else "plain")
    request = sim.request(sim.text(OPENID, SAMPLE), openid=OPENID)
    query = request.query
    xml = (decrypt(account, request.body, query["msg_signature"], query["timestamp"],
                   query["nonce"]) if account.safe_mode else request.body)
    msg = read_message(xml)
    with rehearsal():
        row = inbox.store("wechat", dedupe_key(account.code, msg), msg.openid,
                          {"account": account.code, "xml": xml.decode("utf-8")})
        from_inbox(row)
