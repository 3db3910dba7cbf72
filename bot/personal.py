"""Buyers' personal data (phone, ID and bank-card numbers, house numbers, names after a label) masked before storing."""

from __future__ import annotations

import re

MASK = "*"
_ORDER_WORDS = re.compile(r"(?:订单|单号|运单|快递|物流|编号|货号|型号)[号码:：\s#]*$")  # a number after these is not personal
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){11,18}[0-9Xx]?(?![0-9A-Za-z])")  # 12-20 digits, maybe grouped
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)[(（]?(0\d{2,3})[)）]?[- ]?\d{3,4}[- ]?\d{4}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
# House, building, unit and room numbers (the street and city stay readable): a number after 路/街/巷/弄/村 before
# 号 (建国路88号, not a date such as 10号), or before a unit no date or quantity uses.
_HOUSE_NUMBER = re.compile(r"(?<=[路街巷弄村])\s*\d+(?=\s*号)|\d+(?=\s*(?:号楼|号院|栋|幢|单元|室))")
# A name the buyer labels as one (收件人：张三, 收货人是李四): the surname stays, the given name goes.
_LABELLED_NAME = re.compile(
    r"((?:收件人|收货人|联系人|姓名)\s*(?:[:：]|是|为)?\s*)(?!电话|手机|地址|名字|信息|号码|姓名|改|换|写|填|要|不|没|的)"
    r"([\u4e00-\u9fff])[\u4e00-\u9fff]{1,3}?(?=$|[\s,，。;；、!！?？\d]|电话|手机)"
)


def _is_id_number(digits: str) -> bool:
    """An 18-character resident ID with a valid check character (ISO 7064 mod 11-2)."""
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS)) % 11]
    return digits[17].upper() == check


def _is_card_number(digits: str) -> bool:
    """16-19 digits that pass the Luhn check, as bank cards do."""
    if not 16 <= len(digits) <= 19 or not digits.isdigit():
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _long_number(match: re.Match[str]) -> str:
    text = match.group(0)
    if _ORDER_WORDS.search(match.string[max(0, match.start() - 8):match.start()]):
        return text  # an order or tracking number: what an agent needs, and no one's identity
    digits = re.sub(r"[ -]", "", text)
    if _is_id_number(digits):
        return digits[:6] + MASK * 8 + digits[-4:]
    if _is_card_number(digits):
        return MASK * 4 + digits[-4:]
    return text


def mask_personal(text: str) -> str:
    """The text with personal data masked: 13812345678 → 138****5678, an ID number to its region and last four,
    a bank card to its last four, house numbers to *, a labelled name to its surname. Order, tracking and other
    long numbers that are neither an ID (check character) nor a card (Luhn) stay."""
    text = _DIGITS.sub(_long_number, text)
    text = _MOBILE.sub(lambda m: m.group(1) + MASK * 4 + m.group(2), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-" + MASK * 4, text)
    text = _EMAIL.sub(lambda m: MASK * 3 + "@" + m.group(1), text)
    text = _HOUSE_NUMBER.sub(MASK, text)
    return _LABELLED_NAME.sub(lambda m: m.group(1) + m.group(2) + MASK * 2, text)
