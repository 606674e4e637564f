"""What staff and citizens read for the system's codes: one place for each name the console,
the exports, the board, WeChat and SMS show.

Staff read the centre's own words (退单, 并单). Citizens read where their matter is: a return
(退单) is the centre's internal step, so for them the case is simply being sent on again.
"""

from __future__ import annotations

from .lifecycle import Priority, Status

# --- staff --------------------------------------------------------------------------------

STATUS_NAMES = {
    Status.RECEIVED: "已登记", Status.DISPATCHED: "已转办", Status.ACCEPTED: "已签收",
    Status.REPLIED: "已答复", Status.REVIEWED: "已审核", Status.ANSWERED: "即时答复",
    Status.CLOSED: "已办结", Status.RETURNED: "已退单", Status.REOPENED: "重办",
    Status.MERGED: "已并单",
}
CHANNEL_NAMES = {"phone": "电话", "wechat": "微信", "web": "网站", "sms": "短信",
                 "open311": "Open311"}
KIND_NAMES = {"handle": "转办件", "inform": "转阅件", "instant": "即时答复"}
PRIORITY_NAMES = {Priority.NORMAL: "普通件", Priority.URGENT: "紧急件"}
RATING_NAMES = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
OUTBOX_STATUS_NAMES = {"pending": "待发送", "sending": "发送中", "sent": "已发送",
                       "delivered": "已送达", "failed": "发送失败，将重试", "unknown": "结果不明",
                       "dead": "未能送达", "handled": "已人工处理", "cancelled": "已取消"}
OUTBOX_CHANNEL_NAMES = {"sms": "短信", "wechat": "微信", "voice": "语音电话", "log": "记录"}
# Why a department lost points (the supervision sweep's reasons), as the ledger shows them.
POINTS_REASON_NAMES = {"overdue": "超期未答复", "overdue_after_reminder": "催办后仍超期",
                       "accept_overdue": "超期未签收"}
# Where a case stands on the way to the public board (`none`: no draft yet).
PUBLICATION_STATE_NAMES = {"candidate": "待审核", "draft": "草稿", "approved": "已公开",
                           "withdrawn": "已撤回", "none": "未生成"}
# The kinds of personal data masking finds (`hotline.masking`).
PERSONAL_DATA_NAMES = {"name": "姓名", "id_card": "身份证号", "address": "详细地址",
                       "mobile": "手机号", "landline": "固定电话", "bank_card": "银行卡号",
                       "plate": "车牌号", "email": "电子邮箱", "im_account": "QQ/微信号"}

# --- citizens -----------------------------------------------------------------------------

# A status in a few words (the board's status page, WeChat's 当前状态).
CITIZEN_STATUS = {
    Status.RECEIVED: "已受理",
    Status.DISPATCHED: "已转办",
    Status.ACCEPTED: "办理中",
    Status.REPLIED: "办理中",
    Status.REVIEWED: "已答复",
    Status.ANSWERED: "已答复",
    Status.CLOSED: "已办结",
    Status.RETURNED: "已受理",
    Status.REOPENED: "重新办理中",
    Status.MERGED: "已与同一事项合并办理",
}
# A status as a sentence naming the department (an SMS answer to "查询 FP…").
CITIZEN_PROGRESS = {
    Status.RECEIVED: "已受理，正在分派承办单位",
    Status.DISPATCHED: "已转交{department}办理",
    Status.ACCEPTED: "{department}已签收，正在办理",
    Status.REPLIED: "{department}已答复，正在审核",
    Status.REVIEWED: "答复已审核，即将办结",
    Status.ANSWERED: "已答复",
    Status.CLOSED: "已办结",
    Status.RETURNED: "正在重新分派承办单位",
    Status.REOPENED: "正在重新办理",
    Status.MERGED: "已与同一事项合并办理",
}


def citizen_status(status: str) -> str:
    return CITIZEN_STATUS.get(status, "处理中")


def citizen_progress(status: str, department: str | None) -> str:
    return CITIZEN_PROGRESS.get(status, "正在办理").format(department=department or "承办单位")
