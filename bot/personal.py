"""Buyers' personal data (phone, ID and bank-card numbers, house numbers, names after a label) masked before storing."""

from __future__ import annotations

import re

# Order matters: the longer numbers first, so an ID number is not read as a phone number plus digits.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")  # 18-character resident ID
_BANK_CARD = re.compile(r"(?<!\d)\d{12,15}(\d{4})(?!\d)")  # 16-19 digits
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]{1,64}@([\w-]+\.)+[A-Za-z]{2,}")
# House, building, unit and room numbers (the street and city stay readable): a number after a street word before
# 号 (建国路88号, not a date such as 10号), or before a unit no date or quantity uses.
_HOUSE_NUMBER = re.compile(r"(?<=[路街道巷弄村里])\s*\d+(?=\s*号)|\d+(?=\s*(?:号楼|号院|栋|幢|单元|室|户|座))")
# A name the buyer labels as one (收件人 张三): the surname stays, the given name goes.
_LABELLED_NAME = re.compile(r"((?:收件人|收货人|联系人|姓名|名字)\s*[:：是为]?\s*)([\u4e00-\u9fff])[\u4e00-\u9fff]{1,3}")

MASK = "*"


def mask_personal(text: str) -> str:
    """The text with personal data masked: 13812345678 → 138****5678, an ID number to its region and last four,
    a bank card to its last four, house numbers to *, a labelled name to its surname."""
    text = _ID_NUMBER.sub(lambda m: m.group(1) + MASK * 8 + m.group(2), text)
    text = _BANK_CARD.sub(lambda m: MASK * 4 + m.group(1), text)
    text = _MOBILE.sub(lambda m: m.group(1) + MASK * 4 + m.group(2), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "-" + MASK * 4, text)
    text = _EMAIL.sub(lambda m: MASK * 3 + "@" + m.group(0).split("@", 1)[1], text)
    text = _HOUSE_NUMBER.sub(MASK, text)
    return _LABELLED_NAME.sub(lambda m: m.group(1) + m.group(2) + MASK * 2, text)
