"""The people of the demo's history and what they write: the centre's operators and
supervisor, the department each line sends to when routing has no better idea, the handlers'
replies (by category, with the department's name), the operators' answers on the spot, and
the reasons, instructions and complaints a real centre's timeline carries; with the citizens'
messages the history is made of (package data, `hotline/data/demo_messages.jsonl`)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ..domain.lifecycle import Actor

OPERATORS = (Actor("wangfang", "operator"), Actor("liyan", "operator"),
             Actor("chenjing", "operator"))
SUPERVISOR = Actor("zhaomin", "supervisor")

LINE_DEPARTMENT = {"fupin": "gz-fupin", "zhitongche": "gz-dev", "board": "gov-520100"}

REPLIES = {
    "policy_consult": [
        ("经{dept}核实，现答复如下：您咨询的政策目前仍在执行，符合条件的群众可持身份证、户口簿到户籍"
        "所在地乡镇（街道）便民服务中心提出申请，经村（居）委会评议、乡镇审核后按规定兑现。"
        "承办人已电话告知您具体办理流程和所需材料。"),
        ("您好！关于您咨询的问题，{dept}答复如下：相关政策以省级文件为准，享受对象、标准和申报时间已在"
        "贵州省人民政府网站公开。我们已安排工作人员与您电话联系，逐项解释了申报条件，欢迎继续监督。"),
    ],
    "general_consult": [
        ("经{dept}研究，答复如下：该事项可通过贵州政务服务网在线办理，也可到所在地政务服务中心综合窗口"
        "办理。承办人已与贵公司联系，说明了办理流程、所需材料和办理时限。"),
        ("{dept}答复：贵公司咨询的扶持政策按年度申报，今年申报通知已发布，请按通知要求准备材料，"
        "经所在地主管部门初审后报送。我单位已安排专人对接，如有问题可直接联系。"),
    ],
    "hardship": [
        ("接到转办后，{dept}会同县、乡两级民政和乡村振兴部门入户核实，您家庭的困难情况基本属实。"
        "已按程序为您申请临时救助，并将您家庭纳入防止返贫动态监测，村帮扶干部将定期走访。"),
        ("经{dept}核查，已将您家庭的情况交乡镇人民政府办理：低保申请已受理，正在评议公示；"
        "医疗费用已按规定落实医疗救助。后续办理进展将由乡镇工作人员电话告知您。"),
    ],
    "complaint": [
        ("经{dept}调查核实，您反映的问题部分属实。我单位已责成相关乡镇（部门）限期整改，"
        "对有关责任人进行了批评教育，整改情况已电话反馈给您。感谢您对我们工作的监督。"),
        ("{dept}接件后组织工作人员到现场调查。经查，您反映的情况属实，已督促责任单位立即整改，"
        "并建立长效管理机制。如仍有问题，欢迎再次反映。"),
        ("经{dept}核查，您反映的问题已依法处理：责任单位已作出书面说明并完成整改，"
        "相关费用已按规定退还。承办人已与您电话沟通，说明了处理结果。"),
    ],
    "situation": [
        ("{dept}高度重视贵公司反映的情况，已召集相关部门和单位专题协调。经协调，欠款单位已制定"
        "还款计划，承诺分期支付，首期款项已于近日支付。我们将持续跟踪，督促按计划兑现。"),
        ("经{dept}协调，相关部门已与贵公司当面沟通，明确了办理时限和责任人。"
        "问题已基本解决，后续如遇困难，可通过省长直通车继续反映。"),
    ],
    "suggestion": [
        ("感谢您的意见建议。{dept}认真研究后认为，您的建议具有较强的针对性，"
        "我们将在制定下一步工作措施时统筹考虑，并在条件成熟时推动落实。"),
    ],
    "donation": [
        ("感谢您的爱心！{dept}已将您的捐赠意向转交县级慈善总会，工作人员已与您联系，"
        "商定了捐赠物资的交接方式和受赠学校，捐赠情况将按规定公开。"),
    ],
    "consult": [
        ("您好！经{dept}核实，答复如下：您咨询的事项可到所在区（县）政务服务中心相关窗口办理，"
        "也可登录贵州政务服务网在线申请，所需材料以窗口一次性告知为准。如有疑问，可再次留言。"),
    ],
    "appeal": [
        ("收到您的求助后，{dept}立即会同所在区（县）有关部门与您联系，核实了您家庭的情况，"
        "已按规定为您办理临时救助，并告知了后续可以申请的帮扶政策。"),
    ],
}
ANSWERS = [
    ("您好，您咨询的政策答复如下：符合条件的群众可持身份证、户口簿到户籍所在地乡镇（街道）便民"
    "服务中心申请，具体标准以当地公布为准。如有疑问可再次来电。"),
    ("您好，该事项可通过贵州政务服务网或所在地政务服务中心办理，办理流程和所需材料已在电话中"
    "向您逐项说明。感谢您的来电。"),
]
RETURN_REASONS = [
    "该事项属地方事权，不属我单位职责范围，建议转属地人民政府办理。",
    "经核实，反映事项的主管部门不是我单位，请重新分派。",
]
EXTENSION_REASONS = [
    "涉及多个部门协调，需现场核查取证，申请延期办理。",
    "欠款金额需审计核定，申请延长办理时限。",
]
REVIEW_REJECTS = ["答复未回应群众的具体诉求，请补充核实情况后重新答复。",
                  "答复过于笼统，请说明具体办理结果和时限。"]
UNSATISFIED = ["问题还没有解决", "答复都是套话，没有实际处理", "承办人没有联系过我",
               "钱到现在还没到账"]
REOPEN_REASONS = ["群众回访不满意，问题尚未解决，重新交办。",
                  "回访不满意：承诺事项未兑现，请承办单位重新办理。"]
INSTRUCTIONS = ["请承办单位高度重视，抓紧办理，按期答复群众。",
                "逾期未办结，列为督办件，请三个工作日内报送办理情况。"]


def load_messages() -> list[dict[str, Any]]:
    """The citizen messages the history is made of (package data)."""
    text = resources.files("hotline").joinpath("data/demo_messages.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
