"""Variables in answers: the shop's `{shop_name}` and friends, the order's `{order.tracking_no}`; found, checked and filled."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)\}")  # {shop_name}, {order.tracking_no}


def variables(text: str) -> list[str]:
    """The variable names an answer uses, in order of first use."""
    return list(dict.fromkeys(VARIABLE.findall(text)))


def stray_braces(text: str) -> bool:
    """True when a brace is left over after removing well-formed variables."""
    rest = VARIABLE.sub("", text)
    return "{" in rest or "}" in rest


@dataclass(frozen=True)
class Filled:
    text: str
    filled: dict[str, str]
    missing: tuple[str, ...]


def fill(text: str, shop: Mapping[str, str]) -> Filled:
    """Replace each known variable by its value (the shop's, the order's); unknown ones stay visible as `{name}`."""
    used: dict[str, str] = {}
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in shop:
            used[name] = shop[name]
            return shop[name]
        missing.append(name)
        return match.group(0)

    return Filled(VARIABLE.sub(replace, text), used, tuple(dict.fromkeys(missing)))
