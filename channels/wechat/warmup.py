"""The WeChat channel's part of a process's warm-up (`hotline.warmup`).

- In every process that serves (`warm_up`): a sample message from a citizen, as WeChat posts it
  to the default account, checked, decrypted and read as the webhook does, stored in the inbox
  and done as a worker's job does it (the conversation, intake, the reply written to the
  outbox) — all in a rehearsal that is rolled back — so that a process's first real message
  finds OpenSSL's cipher, the XML parser and every statement of the webhook and of the job
  compiled. A worker's job children are forked from a process that did it.
- In a settling web worker (`rehearse_request`): WeChat's check of the address and the sample
  message posted to `/channels/wechat`, answered through the server as WeChat's would be; the
  message is stored in a rehearsal (its commit a savepoint's release) and rolled back.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Flask

from hotline import inbox
from hotline.extensions import db
from hotline.warmup import (
    Serve,
    expect_answer,
    http_request,
    rehearsal_with_commits,
    rehearse,
)

from .accounts import DEFAULT_CODE, Account, find_account
from .inbound import decrypt, dedupe_key, read_message
from .simulator import Request, Simulator, sign

OPENID = "oWarmUp0000000000000000000000"
SAMPLE = "我们村的通组公路塌方了，车过不去，学生上学要绕很远，请尽快派人修。"


def warm_up(app: Flask) -> None:
    rehearse(app, "WeChat message", _rehearse_message)


def rehearse_request(app: Flask, serve: Serve) -> None:
    """In a settling web worker (`hotline.warmup.settle_web_worker`): WeChat's check of the
    address, then a message, answered through the server."""
    rehearse(app, "WeChat's address check", lambda: _check_address(serve))
    rehearse(app, "WeChat message posted", lambda: _post_message(serve))


def _check_address(serve: Serve) -> None:
    account = find_account(DEFAULT_CODE)
    if account is None:
        return
    timestamp, nonce = str(int(time.time())), "0"
    query = urlencode({"signature": sign(account.token, timestamp, nonce),
                       "timestamp": timestamp, "nonce": nonce, "echostr": "warm-up"})
    expect_answer(serve(http_request("GET", f"/channels/wechat?{query}")), b"200 OK")


def _post_message(serve: Serve) -> None:
    account = find_account(DEFAULT_CODE)
    if account is None:
        return
    request = _sample(account)
    with rehearsal_with_commits():
        expect_answer(serve(http_request("POST", "/channels/wechat?" + urlencode(request.query),
                                         request.body, {"Content-Type": "text/xml"})),
                      b"200 OK")


def _sample(account: Account) -> Request:
    """The sample message as WeChat would post it to `account`: signed, and encrypted in safe
    mode."""
    sim = Simulator(account.token, appid=account.appid, aes_key=account.aes_key,
                    mode="safe" if account.safe_mode else "plain")
    return sim.request(sim.text(OPENID, SAMPLE), openid=OPENID)


def _rehearse_message() -> None:
    account = find_account(DEFAULT_CODE)
    if account is None:
        return  # no default account: no message will come to /channels/wechat
    request = _sample(account)
    query = request.query
    xml = (decrypt(account, request.body, query["msg_signature"], query["timestamp"],
                   query["nonce"]) if account.safe_mode else request.body)
    msg = read_message(xml)
    with rehearsal_with_commits():
        row = inbox.store("wechat", dedupe_key(account.code, msg), msg.openid,
                          {"account": account.code, "xml": xml.decode("utf-8")})
        message_id = row.id
        db.session.commit()
        db.session.expunge_all()  # the job reads the row by its id, as a job child does
        if inbox.process(message_id) != "processed":
            raise RuntimeError("the sample message was not processed")
        inbox.process_waiting(seconds=0)  # the job's look for others waiting: compiled only
