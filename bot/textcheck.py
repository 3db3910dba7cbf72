"""Checks every piece of text from outside goes through: real Unicode, no control characters, within its limit."""

from __future__ import annotations

import re

from bot.errors import MessageError

# C0 controls except tab/newline/carriage return, DEL, C1 controls, and the bidi overrides that can make
# a reply read differently from what it says.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def is_valid_unicode(text: str) -> bool:
    """False for strings holding lone surrogates (JSON "\\ud800"), which no database or page can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: object, what: str, max_chars: int) -> str:
    """The text stripped, or a MessageError saying what is wrong: not text, invalid, control characters, empty, too long."""
    if not isinstance(value, str):
        raise MessageError(f"{what} must be text, not {type(value).__name__}")
    if not is_valid_unicode(value):
        raise MessageError(f"{what} is not valid Unicode (it holds a lone surrogate)")
    bad = CONTROL.search(value)
    if bad:
        raise MessageError(f"{what} contains a control character (U+{ord(bad.group()):04X})")
    stripped = value.strip()
    if not stripped:
        raise MessageError(f"{what} is empty")
    if len(stripped) > max_chars:
        raise MessageError(f"{what} is {len(stripped)} characters; the limit is {max_chars}")
    return stripped
