"""Masking of personal data before a case is published on the public board (公开前脱敏).

A closed case whose writer consented (``public_consent``) is shown on the public message
board together with its answer. Before staff edit and approve the text, this module proposes
a masked version: personal data is replaced, everything else is left exactly as written.

What is masked, and how (``kind``: found by → masked as):

- ``name``: the case's known names; cues such as 我叫X、本人X、村民X、联系人：X、X同志、
  X老人、X先生, and 我是X when the name closes the clause (我是张三，); jieba's person-name tag
  as one more signal → the surname and one 某 per character
  of the given name: 张某某, 张某, 欧阳某某. A surname with a title (张先生, 李女士, 王局长)
  already hides the person and stays. A name found once is masked at every mention.
- ``mobile``: 1[3-9] and nine digits, with spaces, dashes or +86 → 138********. The last
  four digits are never shown: they are the secret of the public status look-up.
- ``landline``: an area code and 7–8 digits, or a bare 7–8 digit number after a cue
  (电话、座机 …) → only the area code kept: 0851-********, for the same reason as mobiles.
- ``id_card``: 18 digits with a valid birth date and check digit, 15-digit old IDs, and any
  15–18 digit number right after 身份证 (a mistyped ID is still the writer's) → the division
  code and the last four kept: 520102********1234. The birth date is what identifies.
- ``bank_card``: 16–19 digits that pass the Luhn check or follow a cue (银行卡、卡号、账号 …)
  → only the last four digits kept, the writer's grouping kept: **** **** **** ***0 128.
- ``address``: door-level parts (组、号、栋、单元、室、门牌, and the bare room number after a
  building or unit: 3栋2单元501) after a village, community, estate, street or road, or after
  家住/住址 → kept down to that level, the rest replaced by ＊＊.
- ``plate``: 贵A12345, 贵A·D12345 (new energy) → 贵A***45, 贵A·****45.
- ``email``: → z***@163.com; government mailboxes (gov.cn) stay.
- ``im_account``: a QQ number or WeChat id after QQ/微信号 → qi****.

Look-alikes that are never masked: dates and times, case numbers (``FP20261123-0001``),
amounts, percentages, policy document numbers (黔府办发〔2016〕39号), article numbers
(第十二条), the government's own service numbers (0851-86833668, 0851-86894627, and any
number passed as ``public_numbers``; short numbers like 12345 or 110 are never masked), a
department's office number given right after its name, enterprise credit codes, six-digit
division codes, statistics, place, village and department names.

The rules favour masking too much over too little: staff review every published text, and an
over-masked word costs an edit while a leaked ID number cannot be taken back.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from .domain import phones

__all__ = [
    "KINDS",
    "PUBLIC_SERVICE_NUMBERS",
    "Masked",
    "find_personal_data",
    "mask_name",
    "mask_personal_data",
]

KINDS = (
    "name",
    "mobile",
    "landline",
    "id_card",
    "bank_card",
    "address",
    "plate",
    "email",
    "im_account",
)


# The government's own numbers are public service information, not personal data.
PUBLIC_SERVICE_NUMBERS = frozenset(
    {
        "085186833668",  # 扶贫专线
        "085186894627",  # 省长直通车
    }
)


@dataclass(frozen=True)
class Masked:
    """One piece of personal data found in a text: ``text[start:end] == original``."""

    kind: str
    start: int
    end: int
    original: str
    replacement: str


def find_personal_data(
    text: str, known_names: Iterable[str] = (), *, public_numbers: Iterable[str] = ()
) -> list[Masked]:
    """Find the personal data in ``text``, in order of position, never overlapping.

    ``known_names`` are names the case itself records (the citizen, the enterprise's contact
    person …); they are masked wherever they appear, whatever the context.
    ``public_numbers`` are phone numbers the government publishes itself, such as the numbers
    of the lines (``+8685186833668``); they stay, as do those in PUBLIC_SERVICE_NUMBERS.
    """
    if not text:
        return []
    norm = text.translate(_HALFWIDTH)
    public = frozenset(phones.key(n) for n in (*PUBLIC_SERVICE_NUMBERS, *public_numbers))
    candidates: list[_Candidate] = [
        *_emails(norm),
        *_im_accounts(norm),
        *_long_numbers(norm),
        *_mobiles(norm, public),
        *_landlines(norm, public),
        *_plates(norm),
        *_addresses(norm),
        *_names(text, known_names),
    ]
    return _resolve(text, candidates, _protected_spans(norm))


def mask_personal_data(
    text: str, known_names: Iterable[str] = (), *, public_numbers: Iterable[str] = ()
) -> str:
    """Return ``text`` with every piece of personal data replaced by its mask."""
    parts: list[str] = []
    pos = 0
    for item in find_personal_data(text, known_names, public_numbers=public_numbers):
        parts.append(text[pos : item.start])
        parts.append(item.replacement)
        pos = item.end
    parts.append(text[pos:])
    return "".join(parts)


# --------------------------------------------------------------------------- resolution

# When two findings overlap, the more specific kind wins: a bank card number is not also a
# mobile number inside it, an e-mail address is not also a name.
_RANK = {
    "email": 0,
    "id_card": 1,
    "bank_card": 2,
    "mobile": 3,
    "landline": 4,
    "im_account": 5,
    "plate": 6,
    "address": 7,
    "name": 8,
}


class _Candidate(NamedTuple):
    kind: str
    start: int
    end: int
    replacement: str


def _resolve(
    text: str, candidates: list[_Candidate], protected: list[tuple[int, int]]
) -> list[Masked]:
    taken: list[tuple[int, int]] = list(protected)
    chosen: list[_Candidate] = []
    for cand in sorted(candidates, key=lambda c: (_RANK[c.kind], c.start - c.end, c.start)):
        if cand.start >= cand.end:
            continue
        if any(cand.start < end and start < cand.end for start, end in taken):
            continue
        taken.append((cand.start, cand.end))
        chosen.append(cand)
    chosen.sort(key=lambda c: c.start)
    return [Masked(c.kind, c.start, c.end, text[c.start : c.end], c.replacement) for c in chosen]


# --------------------------------------------------------------------------- normalisation

# Citizens type full-width digits and letters (１３８…) as often as ASCII ones. Detection runs
# on a copy where each full-width character is replaced by its ASCII twin: one character for
# one, so every offset found in the copy is valid in the original text.
# Call transcripts spell numbers out (幺五九八五…), so Chinese digits count as digits too.
_HALFWIDTH = (
    {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
    | {0x3000: 0x20}
    | {ord(ch): ord(str(i)) for i, ch in enumerate("零一二三四五六七八九")}
    | {ord("〇"): ord("0"), ord("幺"): ord("1")}
)

_HAN = "\u4e00-\u9fff"
_DIGIT_BOUND_BEFORE = r"(?<![0-9])"
_DIGIT_BOUND_AFTER = r"(?![0-9])"


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _cue_before(norm: str, start: int, cue: re.Pattern[str], window: int = 12) -> int | None:
    """Distance back to the end of a cue word shortly before ``start``, or None.

    Only non-digits may stand between cue and number, so the cue of one number does not
    spill over onto the next number in a list.
    """
    before = norm[max(0, start - window) : start]
    best: int | None = None
    for match in cue.finditer(before):
        between = before[match.end() :]
        if not any(ch.isdigit() for ch in between):
            best = len(between)
    return best


# --------------------------------------------------------------------------- look-alikes

_CN_NUM = "零〇一二三四五六七八九十百千两"

_AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"

_PROTECTED = re.compile(
    "|".join(
        [
            # case numbers of this system: FP20261123-0001, ZT…, BD…
            r"(?<![A-Za-z])[A-Z]{2}\d{8}-\d{4,}",
            # policy documents: 黔府办发〔2016〕39号, 国发[2020]1号
            r"[〔\[【(（]\s*\d{4}\s*[〕\]】)）]\s*(?:第\s*)?\d+\s*号",
            rf"第\s*[\d{_CN_NUM}]+\s*号(?:令|文件|公告)?",
            # articles, chapters, batches: 第十二条, 第3款, 第二批
            rf"第\s*[\d{_CN_NUM}]+\s*[条款项章节批次期届]",
            # dates: 2026年10月1日, 2026-10-01, 2026/10/1, 10月1日, 二〇二六年
            r"(?<![0-9])\d{4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?",
            r"(?<![0-9])\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
            r"(?<![0-9])\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?![0-9])",
            rf"[{_CN_NUM}]{{4}}年",
            # times: 10:30, 10:30:15, 9点30分, 14时
            r"(?<![0-9])\d{1,2}[:]\d{2}(?:[:]\d{2})?(?![0-9])",
            r"(?<![0-9])\d{1,2}\s*[点时](?:\s*\d{1,2}\s*分)?",
            # amounts: 3000元, ¥12,000.50, 1.5万元, 人民币5000
            # (full-width commas count as commas here, so thousands need exactly three digits)
            rf"[¥￥$]\s*{_AMOUNT}",
            rf"人民币\s*{_AMOUNT}",
            rf"(?<![0-9,.]){_AMOUNT}\s*[万亿]?\s*(?:元|块|美元|角)",
            # percentages and permilles
            r"\d+(?:\.\d+)?\s*[%‰]",
            # enterprise credit codes and tax numbers identify a company, not a person
            r"(?:统一社会信用代码|信用代码|纳税人识别号|税号)\s*[:]?\s*[0-9A-Z]{15,20}",
        ]
    )
)


def _protected_spans(norm: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _PROTECTED.finditer(norm)]
    spans.extend(m.span() for m in _EIGHT_DIGITS.finditer(norm) if _is_date(m.group()))
    return spans


_EIGHT_DIGITS = re.compile(_DIGIT_BOUND_BEFORE + r"(?:19|20)\d{6}" + _DIGIT_BOUND_AFTER)


def _is_date(yyyymmdd: str) -> bool:
    try:
        datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- e-mail, IM

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,6})"
    r"(?![A-Za-z0-9-])"
)


def _emails(norm: str) -> Iterator[_Candidate]:
    for match in _EMAIL.finditer(norm):
        domain = match.group(2).lower()
        # a department's mailbox is published by the government itself
        if domain == "gov.cn" or domain.endswith(".gov.cn"):
            continue
        yield _Candidate("email", *match.span(), f"{match.group(1)[0]}***@{match.group(2)}")


_IM_ACCOUNT = re.compile(
    r"(?:QQ|qq|微信号|微信|[Vv][Xx]|[Ww][Xx])\s*(?:号码|号)?\s*(?:是|为)?\s*[:]?\s*"
    r"([A-Za-z][A-Za-z0-9_-]{4,19}|[1-9]\d{4,11})(?![A-Za-z0-9_-])"
)


def _im_accounts(norm: str) -> Iterator[_Candidate]:
    for match in _IM_ACCOUNT.finditer(norm):
        account = match.group(1)
        # "微信 13812345678" is a mobile number and is masked as one
        if _MOBILE.fullmatch(account):
            continue
        yield _Candidate("im_account", match.start(1), match.end(1), account[:2] + "****")


# --------------------------------------------------------------------------- ID and bank cards

_ID_CUE = re.compile(r"身份证|证件号|身份号码|公民身份号码|ID")
_BANK_CUE = re.compile(
    r"银行卡|银行账|银行帐|卡号|账号|帐号|账户|帐户|一卡通|社保卡|存折|折号|开户|收款|转账|转入"
)

# numbers of parcels, orders and invoices are long and may pass the Luhn check by chance
_NOT_A_CARD_CUE = re.compile(r"单号|订单|编号|流水号|快递|运单|发票|合同号|批次号|工单")

_CONTIGUOUS_NUMBER = re.compile(_DIGIT_BOUND_BEFORE + r"(?:\d{17}[Xx]|\d{15,19})" + r"(?![0-9Xx])")
# bank cards are often written in groups of four: 6222 0212 3456 7890 123
_GROUPED_CARD = re.compile(
    _DIGIT_BOUND_BEFORE + r"\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?" + _DIGIT_BOUND_AFTER
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _is_id_number(number: str) -> bool:
    """A resident ID (居民身份证号码, GB 11643): division, birth date, sequence, check digit."""
    number = number.upper()
    if number[0] not in "12345678":
        return False
    if len(number) == 15 and number.isdigit():
        return _is_date("19" + number[6:12])
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if not _is_date(number[6:14]) or not 1900 <= int(number[6:10]) <= 2099:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def _luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_id(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _keep_last_four(original: str) -> str:
    """Star every digit but the last four, keeping the writer's grouping (6222 …) as written."""
    digits_seen = 0
    total = len(_digits(original))
    out = []
    for ch in original:
        if ch.isdigit():
            digits_seen += 1
            out.append(ch if digits_seen > total - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def _long_numbers(norm: str) -> Iterator[_Candidate]:
    for match in _CONTIGUOUS_NUMBER.finditer(norm):
        number = match.group()
        start, end = match.span()
        id_cue = _cue_before(norm, start, _ID_CUE)
        bank_cue = _cue_before(norm, start, _BANK_CUE)
        # the nearer cue decides; without one, the number's own structure does
        bank_first = bank_cue is not None and (id_cue is None or bank_cue < id_cue)
        # after 身份证 a number of roughly the right length is a mistyped ID, still the writer's
        looks_like_id = _is_id_number(number) or (id_cue is not None and len(number) <= 18)
        if not bank_first and looks_like_id:
            yield _Candidate("id_card", start, end, _mask_id(number))
        elif (
            number.isdigit()
            and 16 <= len(number) <= 19
            and (
                bank_cue is not None
                or (_luhn_valid(number) and _cue_before(norm, start, _NOT_A_CARD_CUE) is None)
            )
        ):
            yield _Candidate("bank_card", start, end, _keep_last_four(number))
    for match in _GROUPED_CARD.finditer(norm):
        digits = _digits(match.group())
        start, end = match.span()
        if _cue_before(norm, start, _BANK_CUE, window=16) is not None or (
            _luhn_valid(digits) and _cue_before(norm, start, _NOT_A_CARD_CUE) is None
        ):
            yield _Candidate("bank_card", start, end, _keep_last_four(match.group()))


# --------------------------------------------------------------------------- phones

_COUNTRY = r"(?:(?:\+|00)\s*86|\(\+?86\)|86)"
_MOBILE = re.compile(
    _DIGIT_BOUND_BEFORE
    + rf"({_COUNTRY}[ -]?)?(1[3-9]\d)[ -]?(\d{{4}})[ -]?(\d{{4}})"
    + _DIGIT_BOUND_AFTER
)


def _mobiles(norm: str, public: frozenset[str]) -> Iterator[_Candidate]:
    for match in _MOBILE.finditer(norm):
        prefix = match.group(1) or ""
        if "".join(match.group(2, 3, 4)) in public:
            continue
        # The last four digits stay hidden: they are what a citizen gives to look up a case
        # (phone_tail), and the board shows case numbers.
        yield _Candidate("mobile", *match.span(), f"{prefix}{match.group(2)}********")


_AREA = r"(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    _DIGIT_BOUND_BEFORE
    + r"("
    + rf"(?:\+|00)\s*86[ -]?\(?0?{_AREA}\)?[ -]?"
    + rf"|[(（]0{_AREA}[)）][ -]?"
    + rf"|0{_AREA}[ -]?"
    + r")([2-9]\d{2,3}[ -]?\d{4})"
    + _DIGIT_BOUND_AFTER
)
_LOCAL_NUMBER = re.compile(_DIGIT_BOUND_BEFORE + r"[2-9]\d{2,3}[ -]?\d{4}" + _DIGIT_BOUND_AFTER)
_PHONE_CUE = re.compile(r"电话|座机|固话|号码|联系方式|手机|[Tt]el|TEL")


def _is_public_number(prefix: str, local: str, public: frozenset[str]) -> bool:
    if _digits(prefix):
        return phones.key(prefix + local) in public
    # a local number without its area code: public if it is the local part of one
    return any(len(n) > 8 and n.endswith(_digits(local)) for n in public)


# A government office named right before a landline number publishes it itself: answers
# routinely say 请拨打县民政局社会救助股电话0857-6222301. Mobiles are always masked.
_OFFICE_BEFORE = re.compile(
    r"(?:局|厅|委|政府|中心|热线|专线|股|科|站|派出所|司法所|财政所|法院|检察院|医院|卫生院"
    r"|窗口|大厅|办公室|居委会|村委会)"
    r"[,]?\s*(?:值班|办公|咨询|服务|举报|投诉|监督)?(?:电话|座机|热线|号码)?(?:是|为)?\s*[:]?\s*$"
)


def _is_office_number(norm: str, start: int) -> bool:
    return _OFFICE_BEFORE.search(norm[max(0, start - 16) : start]) is not None


def _landlines(norm: str, public: frozenset[str]) -> Iterator[_Candidate]:
    for match in _LANDLINE.finditer(norm):
        prefix, local = match.group(1), match.group(2)
        if _is_public_number(prefix, local, public) or _is_office_number(norm, match.start()):
            continue
        yield _Candidate("landline", *match.span(), prefix + "*" * len(local))
    for match in _LOCAL_NUMBER.finditer(norm):
        local = match.group()
        # a bare 7–8 digit number is only a phone number when the text says so
        if _cue_before(norm, match.start(), _PHONE_CUE) is None:
            continue
        if _is_public_number("", local, public) or _is_office_number(norm, match.start()):
            continue
        yield _Candidate("landline", *match.span(), "*" * len(local))


# --------------------------------------------------------------------------- plates

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"([{_PROVINCES}][A-HJ-NP-Z])([ ·•・.\-]?)([A-HJ-NP-Z0-9]{{5,6}})([挂学警港澳领试超]?)"
    r"(?![A-Za-z0-9])"
)


def _plates(norm: str) -> Iterator[_Candidate]:
    for match in _PLATE.finditer(norm):
        serial = match.group(3)
        # a regular serial has at most two letters; a new-energy one has six characters
        # starting or ending with D/F. Anything else is a model number, not a plate.
        if sum(ch.isdigit() for ch in serial) < 3:
            continue
        if len(serial) == 6 and serial[0] not in "DF" and serial[-1] not in "DF":
            continue
        masked = "*" * (len(serial) - 2) + serial[-2:]
        yield _Candidate(
            "plate", *match.span(), match.group(1) + match.group(2) + masked + match.group(4)
        )


# --------------------------------------------------------------------------- addresses

# house and room numbers are short; a longer digit run is a phone number or an amount
_ADDRESS_NUM = rf"(?:(?<![0-9])\d{{1,5}}(?![0-9])|[{_CN_NUM}]+)"
_ADDRESS_PART = (
    rf"(?:门牌号?\s*[:]?\s*)?"
    rf"(?:第?{_ADDRESS_NUM}"
    r"(?:村民小组|小组|号楼|号院|号(?![线令文])|栋|幢|座|单元|楼|层|室|组(?!织)|队|排|弄)"
    rf"|{_ADDRESS_NUM}(?:[-－—]{_ADDRESS_NUM})+(?:号|室)?"
    rf"|附\s*{_ADDRESS_NUM}\s*号"
    r"|(?<![A-Za-z])[A-Za-z](?:座|栋|幢))"
)
# A bare room number after a building, unit or floor (3栋2单元501, 5号楼1203), but not a
# count or an amount that follows one (3楼300平米, 2单元100多户, 2单元1000元)
_ROOM = (
    r"(?<=[栋幢座元楼层])\s?[A-Za-z]?\d{3,4}"
    r"(?![0-9.%％‰元块万千百米平㎡人户岁年月日天次个套间多余来]|,\d)"
)
# never starting inside another number or right after a mask (139****2345组)
_ADDRESS_TAIL = re.compile(
    rf"(?<![0-9*.:\-]){_ADDRESS_PART}(?:[ 、-]?{_ADDRESS_PART})*(?:{_ROOM})?"
)
# the last level that stays visible: a village, a community, a housing estate, a street
_ADDRESS_ANCHOR = re.compile(
    r"(?:村|社区|小区|居委会|村委会|街道|寨|屯|苑|园|组团|期|公寓|大厦|新城|新村|路|街|大道|巷"
    r"|镇|乡) ?$"
)
_RESIDENCE_CUE = re.compile(r"家住|住址|住在|居住|现住|地址|住于|住")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def _addresses(norm: str) -> Iterator[_Candidate]:
    for match in _ADDRESS_TAIL.finditer(norm):
        start, end = match.span()
        before = norm[max(0, start - 20) : start]
        anchored = _ADDRESS_ANCHOR.search(before) is not None
        if not anchored:
            clause = _SENTENCE_END.split(before)[-1]
            if _RESIDENCE_CUE.search(clause) is None:
                continue
        yield _Candidate("address", start, end, "＊＊")


# --------------------------------------------------------------------------- names


def _words(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Common surnames, including those frequent among Guizhou's Miao, Buyi, Dong and Yi
# people. Characters that are mostly function words (和, 来, 都, 由 …) are left out where the
# surname is rare, because every false surname is a chance to mask an ordinary word.
_SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
    "桂佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠惠荆乐"
    "冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺闻伊仝郜阚帅屠豆朴廉禹井祖漆巴丰支卿狄晋芮阙浦戈伏鹿邸"
    "雍辜羊母裘亓邰赫杭宿鲜逯隆茹慕亢嵇湛宾戎勾茅揭尉冶檀昝奉衡尧禄陇杞"
)
_COMPOUND_SURNAMES = frozenset(
    _words(
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 澹台 轩辕 "
        "端木 独孤 南宫 西门 万俟 闻人 呼延 赫连 申屠 钟离 鲜于 百里 东郭 太史"
    )
)

# Forms of address that already hide the given name: 张先生, 李女士, 王老师 stay.
_TITLES = _words(
    "先生 女士 小姐 老师 师傅 同志 大爷 大妈 大娘 大姐 大哥 阿姨 叔叔 "
    "伯伯 婆婆 爷爷 奶奶 老板 经理 主任 书记 局长 科长 处长 县长 镇长 "
    "乡长 村长 组长 校长 院长 医生 律师 警官 老汉 老太 家人 某"
)
_SINGLE_CHAR_TITLES = frozenset("总工家氏姓某老哥姐叔婶嫂伯")
# Characters that end a name rather than belong to it (反映、说、在 …)
_NOT_IN_GIVEN_NAME = frozenset(
    "的了是在和与及或等说称讲问反来去到把被对向从于也都就还又已再很更最不没无这那哪些个位名们"
    "里上下内外前后今昨此其之所以而且但因为由给让叫请找打拨电话手身联系村组镇乡县市省区路街"
    "号栋室元年月日时分某，。、；：！？（）《》“”‘’ 0123456789"
)
# A name directly followed by one of these is a place or an organisation: 王家寨村, 安顺市
_PLACE_OR_ORG_AFTER = re.compile(
    r"(?:村|寨|镇|乡|县|市|区|州|省|路|街|巷|屯|坝|社区|小区|公司|集团|医院|学校|中学|小学|大学"
    r"|银行|局(?!长)|厅(?!长)|委(?!员)|院(?!长)|站(?!长)|厂(?!长)|矿|桥|大道|广场|花园)"
)
# A given name never ends in a place word; names that look like one are villages: 王家寨
_PLACE_LAST_CHAR = frozenset("寨坝屯堡村镇乡县市省区路街")
# jieba tags (conjunction, adverb, number, preposition, pronoun, time …) a given name never has
_NOT_IN_NAME_POS = ("c", "d", "e", "f", "m", "o", "p", "q", "r", "t", "u", "x", "y", "w")
# a lone surname character tagged like this (or as a verb) is used as a word: 向他, 于是, 叫车
_FUNCTION_POS = (*_NOT_IN_NAME_POS, "v")

# Cues before a name. Strong cues are enough on their own; weak cues (我是 …) also need
# jieba to tag the following word as a person's name.
_STRONG_PREFIX_CUES = _words(
    "我叫 名叫 叫做 叫 本人 姓名 村民 居民 农户 贫困户 脱贫户 低保户 五保户 "
    "户主 联系人 联络人 来电人 来信人 反映人 投诉人 举报人 当事人 申请人 "
    "法定代表人 法人代表 负责人 总经理 董事长 村支书 支书 村主任 网格员 "
    "驻村干部 第一书记 老人 主任 书记 局长 镇长 乡长 县长 村长 组长 队长 站长 所长 会计"
)
_WEAK_PREFIX_CUES = _words(
    "我是 群众 经理 老板 工作人员 员工 职工 工人 业主 房东 租户 "
    "车主 司机 妻子 丈夫 爱人 儿子 女儿 父亲 母亲 爷爷 奶奶 外公 外婆 "
    "孙子 孙女 学生 患者 病人 孩子 邻居"
)
# A writer introducing themselves: 我是张三，… — the name stands alone up to the clause's end
# (我是党员，我是石阡人 are no names: a dictionary word, or the clause goes on).
_SELF_INTRODUCTION_CUES = _words("我是 我系 本人是")
_CLAUSE_END = re.compile(r"$|[，,。.！!？?；;、\s（(]|家住|住在|来自|今年")
_STRONG_SUFFIX_CUES = _words("同志 老人 先生 女士 夫妇 一家 本人 家属")
_WEAK_SUFFIX_CUES = _words("反映 来电 来信 投诉 举报 称 说 表示 老师 师傅 大爷 大妈 阿姨 等人 家")
_PREFIX_CUE = re.compile(
    "("
    + "|".join(sorted(_STRONG_PREFIX_CUES + _WEAK_PREFIX_CUES + _SELF_INTRODUCTION_CUES,
                      key=len, reverse=True))
    + r")\s*[:：]?\s*"
)
_SUFFIX_CUE = re.compile(
    "|".join(sorted(_STRONG_SUFFIX_CUES + _WEAK_SUFFIX_CUES, key=len, reverse=True))
)
_HAN_RUN = re.compile(f"[{_HAN}]+")


def mask_name(name: str) -> str:
    """张三丰 → 张某某, 张三 → 张某, 欧阳娜娜 → 欧阳某某; a non-Chinese name → 某某."""
    name = name.strip()
    if not re.fullmatch(f"[{_HAN}]{{2,5}}", name):
        return "某某"
    surname = name[:2] if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else name[0]
    return surname + "某" * (len(name) - len(surname))


def _surname_length(text: str, pos: int) -> int:
    if text[pos : pos + 2] in _COMPOUND_SURNAMES:
        return 2
    return 1 if pos < len(text) and text[pos] in _SINGLE_SURNAMES else 0


class _Jieba(NamedTuple):
    tokenizer: Any  # jieba.Tokenizer: segmentation and its dictionary
    tagger: Any  # jieba.posseg.POSTokenizer: part-of-speech tags
    freq: dict[str, int]
    tags: dict[str, str]


@lru_cache(maxsize=1)
def _jieba() -> _Jieba:
    """jieba, imported and its dictionary loaded on first use (about a second), once per process.

    The shared default tokenizer is only read, never changed: routing segments with it too.
    """
    import jieba
    import jieba.posseg

    jieba.initialize()
    return _Jieba(jieba.dt, jieba.posseg.dt, jieba.dt.FREQ, jieba.posseg.dt.word_tag_tab)


@lru_cache(maxsize=8192)
def _unknown_word_tag(word: str) -> str:
    """Part of speech of a word jieba's dictionary does not know, from its tagging HMM.

    Tagging a whole text this way costs about 30 ms per 1,000 characters; tagging only the
    unknown words that could be names keeps masking at a few milliseconds per letter.
    """
    pairs = list(_jieba().tagger.cut(word))
    # jieba often tags the surname and the given name apart: 杨/nr 秀英/nr
    if pairs and pairs[0].flag.startswith("nr"):
        return "nr"
    return pairs[0].flag if len(pairs) == 1 else "n"


class _Tokens:
    """jieba's segmentation of a text with a part of speech per word, indexed by position."""

    def __init__(self, text: str) -> None:
        jb = _jieba()
        self.freq = jb.freq
        self.starts: set[int] = set()
        self.ends: set[int] = set()
        self.spans: list[tuple[int, int, str, str]] = []
        self.at: list[int] = [0] * len(text)
        pos = 0
        for word in jb.tokenizer.cut(text, HMM=True):
            if self.in_dictionary(word):
                flag = jb.tags.get(word, "x")
            elif not _HAN_RUN.fullmatch(word):
                flag = "x"
            elif 2 <= len(word) <= 4 and _surname_length(word, 0):
                flag = _unknown_word_tag(word)
            else:
                flag = "n"  # an unknown Chinese word: most likely a noun
            self.starts.add(pos)
            self.ends.add(pos + len(word))
            for i in range(pos, pos + len(word)):
                self.at[i] = len(self.spans)
            self.spans.append((pos, pos + len(word), word, flag))
            pos += len(word)

    def token(self, pos: int) -> tuple[int, int, str, str]:
        return self.spans[self.at[pos]]

    def in_dictionary(self, word: str) -> bool:
        # jieba's FREQ also holds every prefix of a word, with frequency 0
        return self.freq.get(word, 0) > 0


def _plausible_name(text: str, start: int, end: int, tokens: _Tokens) -> bool:
    """Whether text[start:end] can be a full name: surname, then one or two given characters."""
    name = text[start:end]
    sl = _surname_length(text, start)
    given = name[sl:]
    if not sl or not 1 <= len(given) <= 2 or end > len(text):
        return False
    if not _HAN_RUN.fullmatch(name) or "某" in name:
        return False
    if any(ch in _NOT_IN_GIVEN_NAME for ch in given):
        return False
    if given in _SINGLE_CHAR_TITLES or any(given.startswith(t) for t in _TITLES):
        return False
    if given[-1] in _PLACE_LAST_CHAR or _PLACE_OR_ORG_AFTER.match(text, end):
        return False
    # 张某某 is masked already; 张贵A12345 is a plate after a surname, not 张贵
    if end < len(text) and (text[end] in "某*＊" or text[end].isascii() and text[end].isalpha()):
        return False
    # the name must be whole words: it may not end in the middle of jieba's word
    if end not in tokens.ends and end < len(text):
        return False
    for tok_start, tok_end, word, flag in tokens.spans[tokens.at[start] : tokens.at[end - 1] + 1]:
        if len(word) == 1 or (tok_start == start and tok_end == start + sl):
            continue  # single characters and a compound surname (欧阳) say nothing
        if tok_start <= start:
            # a known word holding the surname is an ordinary word (马上, 高度, 常常) unless
            # jieba knows it as a name
            if not flag.startswith("nr") and tokens.in_dictionary(word):
                return False
        elif flag.startswith(_NOT_IN_NAME_POS):
            # given names are often ordinary words (明亮, 建国, 金花), but never times,
            # numbers or function words (于|今年)
            return False
    return True


def _jieba_says_name(text: str, start: int, end: int, tokens: _Tokens) -> bool:
    first = tokens.token(start)
    if first[0] == start and first[1] == end and first[3].startswith("nr"):
        return True
    # jieba often tags the surname alone as a name and the given name separately: 杨|秀英
    return (
        first[0] == start
        and first[1] - first[0] == _surname_length(text, start)
        and first[3] == "nr"
    )


def _name_after(text: str, pos: int, tokens: _Tokens, strong: bool) -> tuple[int, int] | None:
    sl = _surname_length(text, pos)
    if not sl:
        return None
    # a surname standing alone as a preposition or adverb is not one here (向他反映, 于是)
    first = tokens.token(pos)
    if first[1] - first[0] == 1 and first[3].startswith(_FUNCTION_POS) and first[3] != "nr":
        return None
    for given in (2, 1):
        end = pos + sl + given
        if (
            end <= len(text)
            and _plausible_name(text, pos, end, tokens)
            and (strong or _jieba_says_name(text, pos, end, tokens))
        ):
            return pos, end
    return None


def _introduced_name(text: str, pos: int, tokens: _Tokens) -> tuple[int, int] | None:
    """The name after 我是 when it closes the clause: 我是张三，… (jieba reads 张 as a measure
    word there, so its tags are not asked)."""
    sl = _surname_length(text, pos)
    if not sl:
        return None
    for given in (2, 1):
        end = pos + sl + given
        if end <= len(text) and _CLAUSE_END.match(text, end) \
                and _plausible_name(text, pos, end, tokens):
            return pos, end
    return None


def _name_before(
    text: str, cue_start: int, tokens: _Tokens, strong: bool
) -> tuple[int, int] | None:
    options = []
    for length in (4, 3, 2):
        start = cue_start - length
        if start < 0 or start not in tokens.starts:
            continue
        sl = _surname_length(text, start)
        if not sl or not 1 <= length - sl <= 2:
            continue
        first = tokens.token(start)
        single = first[1] - first[0] == 1
        if single and first[3] != "nr" and first[3].startswith(_FUNCTION_POS):
            continue
        # at least one given-name character: a bare surname before 先生 (张先生) stays
        if not _plausible_name(text, start, cue_start, tokens):
            continue
        said = _jieba_says_name(text, start, cue_start, tokens)
        if strong or said:
            options.append((said, length, start))
    if not options:
        return None
    # prefer what jieba also calls a name, then the longer reading (赵|建国 over 建国)
    _, length, start = max(options)
    return start, start + length


def _names(text: str, known_names: Iterable[str]) -> Iterator[_Candidate]:
    found: set[str] = set()
    for name in known_names:
        name = (name or "").strip()
        # one character, or two Latin letters, would mask every occurrence of a common string
        if len(name) >= (2 if _HAN_RUN.fullmatch(name) else 3):
            found.add(name)
    if _HAN_RUN.search(text):
        tokens = _Tokens(text)
        found.update(_names_from_cues(text, tokens))
        found.update(_names_from_tagger(text, tokens))
    # a name seen once is masked wherever it appears, even where no cue stands next to it
    for name in found:
        replacement = mask_name(name)
        pos = text.find(name)
        while pos >= 0:
            yield _Candidate("name", pos, pos + len(name), replacement)
            pos = text.find(name, pos + len(name))


def _names_from_cues(text: str, tokens: _Tokens) -> Iterator[str]:
    for match in _PREFIX_CUE.finditer(text):
        strong = match.group(1) in _STRONG_PREFIX_CUES
        span = _name_after(text, match.end(), tokens, strong) if match.end() < len(text) else None
        if span is None and match.group(1) in _SELF_INTRODUCTION_CUES:
            span = _introduced_name(text, match.end(), tokens)
        if span:
            yield text[span[0] : span[1]]
    for match in _SUFFIX_CUE.finditer(text):
        strong = match.group() in _STRONG_SUFFIX_CUES
        span = _name_before(text, match.start(), tokens, strong)
        if span:
            yield text[span[0] : span[1]]


def _names_from_tagger(text: str, tokens: _Tokens) -> Iterator[str]:
    """Names jieba finds by itself: only those not in its dictionary.

    jieba's dictionary tags thousands of ordinary words as names (明白, 文明, 黄金周) and knows
    public figures by name; a private citizen's name is almost never in it, so only the names
    jieba discovers as unknown words count.
    """
    for i, (start, end, _, flag) in enumerate(tokens.spans):
        if flag != "nr":
            continue
        candidates = [(start, end)]
        if end - start == _surname_length(text, start) and i + 1 < len(tokens.spans):
            nxt = tokens.spans[i + 1]
            if nxt[3].startswith("nr") and 1 <= len(nxt[2]) <= 2:
                candidates.append((start, nxt[1]))
        for cand_start, cand_end in candidates:
            name = text[cand_start:cand_end]
            if not tokens.in_dictionary(name) and _plausible_name(
                text, cand_start, cand_end, tokens
            ):
                yield name
