"""Identifiers as Amazon and GS1 issue them: EAN-13 barcodes, ASINs and Amazon purchase order numbers."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

ALPHANUMERIC = string.ascii_uppercase + string.digits


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for a string of digits (EAN-13 body, SSCC body, ...).

    Weights 3 and 1 alternate starting with 3 at the rightmost digit, so the rule works for any length.
    """
    if not digits.isdigit():
        raise ValueError(f"not a digit string: {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def ean13(company_prefix: str, item_reference: int) -> str:
    """A GTIN-13 from a GS1 company prefix and the item reference the company assigns."""
    width = 12 - len(company_prefix)
    if item_reference >= 10**width:
        raise ValueError(f"item reference {item_reference} does not fit after prefix {company_prefix}")
    body = f"{company_prefix}{item_reference:0{width}d}"
    return f"{body}{gs1_check_digit(body)}"


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and gs1_check_digit(code[:12]) == int(code[12])


def random_alphanumeric(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(ALPHANUMERIC) for _ in range(length))


def random_asin(rng: random.Random) -> str:
    """An ASIN of the modern form: 'B0' then 8 uppercase alphanumerics."""
    return "B0" + random_alphanumeric(rng, 8)


def random_amazon_po_number(rng: random.Random) -> str:
    """An Amazon purchase order number: 8 alphanumerics mixing letters and digits, like '7K4XQ2MB'."""
    while True:
        candidate = random_alphanumeric(rng, 8)
        # Real PO numbers always mix both; an all-digit one would also read like one of our own numbers.
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


class UniqueDraws:
    """Draws from a random identifier source, never returning the same value twice."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def draw(self, source: Callable[[random.Random], str]) -> str:
        while True:
            value = source(self._rng)
            if value not in self._seen:
                self._seen.add(value)
                return value
