"""Everything the account says to citizens, in Chinese, in one place (plain functions).

Replies go out as customer-service text messages, whose content WeChat limits to 2048 bytes;
`fit` cuts long answers.
"""

from __future__ import annotations

import datetime as dt
import re

from hotline.domain import names
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.surveys import RATINGS

MAX_REPLY_BYTES = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fit(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Make a text safe and short enough for a reply: no control characters, no CDATA
    terminator (WeChat's XML carries it inside CDATA), at most `limit` bytes of UTF-8."""
    text = _CONTROL.sub("", text).replace("]]>", "]] >")
    if len(text.encode()) <= limit:
        return text
    tail = "…（内容较长，已节选）"
    budget = limit - len(tail.encode())
    cut = text.encode()[:budget].decode(errors="ignore")
    return cut + tail


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(PROVINCE_TZ).strftime("%Y-%m-%d %H:%M")


def usage(lines: list[str]) -> str:
    choice = "、".join(lines)
    return (
        "· 直接发送文字、语音或图片，即可反映问题，我们会回复工单号；\n"
        "· 发送工单号（如 FP20261123-0001）查看办理进度；\n"
        "· 发送“我的”查看您提交过的工单；\n"
        "· 发送“绑定 手机号”，可查询您打电话反映的工单；\n"
        + (f"· 点击菜单“我要反映”可选择{choice}。" if choice else "")
    ).rstrip("\n")


def welcome(account_name: str, lines: list[str]) -> str:
    return (f"您好，欢迎关注“{account_name}”！这里受理群众和企业的咨询、求助、投诉和建议，"
            "件件有回音。\n" + usage(lines) + "\n您反映的事项将在规定的工作日内转交承办单位办理。")


def help_text(lines: list[str]) -> str:
    return "您可以这样使用：\n" + usage(lines)


def intake_ack(number: str, line_name: str, minutes: int, due_date: dt.date | None,
               provisional: bool) -> str:
    due = ""
    if due_date is not None:
        due = f"\n办理时限：{due_date:%Y年%m月%d日}前{'（暂定）' if provisional else ''}。"
    return (f"您的诉求已受理（{line_name}），工单号：{number}。{due}\n"
            f"{minutes}分钟内继续发送的文字、语音或图片会补充到这件工单。"
            f"发送“{number}”可随时查询办理进度。")


def voice_ack(number: str, recognition: str | None, minutes: int, created: bool) -> str:
    head = f"已收到您的语音，工单号：{number}。" if created else f"语音已补充到工单 {number}。"
    if recognition:
        return head + f"\n识别内容：{recognition}"
    return head + ("\n语音未能转成文字，工作人员会收听处理；也可以发送文字补充说明"
                   f"（{minutes}分钟内发送的内容会补充到这件工单）。")


def media_ack(number: str, what: str, minutes: int, created: bool) -> str:
    if created:
        return (f"已收到您的{what}，工单号：{number}。\n请在{minutes}分钟内用文字说明您反映的问题，"
                "会补充到这件工单。")
    return f"{what}已补充到工单 {number}。"


def supplement_ack(number: str) -> str:
    return f"已补充到工单 {number}。"


def case_status(number: str, line_name: str, status: str, received_at: dt.datetime,
                department: str | None, due_date: dt.date | None, provisional: bool,
                answer: str | None) -> str:
    parts = [f"工单 {number}（{line_name}）",
             f"提交时间：{local_time(received_at)}",
             f"当前状态：{names.citizen_status(status)}",
             f"承办单位：{department or '待分派'}"]
    if due_date is not None and status not in ("reviewed", "answered", "closed"):
        parts.append(f"办理时限：{due_date:%Y年%m月%d日}前{'（暂定）' if provisional else ''}")
    if answer:
        parts.append(f"答复内容：{answer}")
    return fit("\n".join(parts))


def not_found(number: str) -> str:
    # One text for "no such case" and "not yours": the answer must not tell them apart.
    return (f"未查询到工单 {number}。请核对工单号；这里只能查询您本人在本公众号提交的工单"
            "（绑定手机号后也可查询用该号码电话反映的工单）。")


def query_help() -> str:
    return "请发送工单号查询办理进度，例如：FP20261123-0001。发送“我的”可查看您提交过的工单。"


def mine(rows: list[tuple[str, str, dt.datetime, str]]) -> str:
    """rows: (number, status, received_at, content)."""
    if not rows:
        return "您还没有提交过工单。直接发送文字、语音或图片即可反映问题。"
    lines = ["您最近的工单："]
    for i, (number, status, received_at, content) in enumerate(rows, 1):
        summary = re.sub(r"\s+", " ", content).strip()
        summary = summary[:18] + ("…" if len(summary) > 18 else "")
        lines.append(f"{i}. {number} {names.citizen_status(status)}"
                     f"（{received_at.astimezone(PROVINCE_TZ):%m月%d日}）{summary}")
    lines.append("发送工单号查看详情。")
    return fit("\n".join(lines))


def survey_thanks(number: str, rating: str) -> str:
    text = f"感谢您的评价！工单 {number}：{RATINGS[rating]}。"
    if rating == "unsatisfied":
        text += "\n我们已将您的意见转交督办人员，会尽快核实并与您联系。"
    return text


def survey_already(number: str) -> str:
    return f"工单 {number} 的评价已收到，感谢您的参与。"


def no_survey() -> str:
    return "您目前没有待评价的工单。如需反映问题，请直接用文字描述。"


def line_chosen(line_name: str) -> str:
    return f"您已选择{line_name}。请直接发送文字、语音或图片描述您反映的问题，我们会回复工单号。"


def new_case_ready() -> str:
    return "好的，请发送新的诉求内容，我们会另开一件工单。"


def location_ack(number: str | None, label: str) -> str:
    if number:
        return f"位置（{label}）已补充到工单 {number}。"
    return "已收到位置。请先用文字描述您反映的问题，再发送位置，我们会一并记录。"


def unsupported() -> str:
    return "暂不支持这类消息，请发送文字、语音或图片。"


def intake_refused() -> str:
    return "抱歉，暂时无法受理，请稍后再试，或拨打热线电话反映。"


# -- phone binding ----------------------------------------------------------------------------

def bind_help() -> str:
    return "请发送“绑定 11位手机号”，例如：绑定 13985012345。"


def bind_code_sent(masked: str, minutes: int) -> str:
    return (f"验证码已通过短信发送到 {masked}，请在{minutes}分钟内回复“验证码 六位数字”"
            "完成绑定。")


def bind_wait(seconds: int) -> str:
    return f"验证码刚刚发送过，请{seconds}秒后再试。"


def bind_sms(code: str, minutes: int) -> str:
    return f"【贵州12345】您的微信绑定验证码为 {code}，{minutes}分钟内有效。如非本人操作请忽略。"


def bind_done(masked: str) -> str:
    return (f"手机号 {masked} 已绑定。用该号码电话反映的工单也可以在这里查询了，"
            "发送“我的”查看。")


def bind_failed() -> str:
    return "验证码不正确或已过期，请重新发送“绑定 手机号”获取验证码。"


def unbound(had_phone: bool) -> str:
    return "已解除手机号绑定。" if had_phone else "您还没有绑定手机号。"
