"""Serial Shipping Container Codes: the 18-digit GS1 key every carton and pallet on a ship notice carries.

An SSCC is an extension digit, our GS1 company prefix (7 to 10 digits), a serial reference filling the rest up
to 17 digits, and a GS1 mod-10 check digit. Amazon refuses an ASN whose SSCC has a wrong check digit or repeats
one used within 365 days, so the serial reference must never repeat: the caller takes it from the outbox's
`pipelines.edi.outbox.ControlNumbers`, series ``"sscc:<company prefix>"`` with
``maximum=serial_capacity(company_prefix)``, which survives restarts and refuses to wrap round.
"""

from __future__ import annotations

SSCC_LENGTH = 18
APPLICATION_IDENTIFIER = "00"  # GS1-128 AI for an SSCC, printed as "(00)" on the label
MIN_COMPANY_PREFIX_LENGTH = 7
MAX_COMPANY_PREFIX_LENGTH = 10
# Extension digit + company prefix + serial reference: the digits the check digit is computed over.
DATA_LENGTH = SSCC_LENGTH - 1


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of `digits` (for an SSCC, its first 17 digits).

    From the rightmost digit leftwards, digits are weighted 3, 1, 3, 1 ...; the check digit brings the weighted
    sum up to a multiple of ten. Every GS1 key (GTIN, GLN, SSCC) uses the same rule.
    """
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"a GS1 check digit is computed over digits only, not {digits!r}")
    weighted = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits)))
    return str(-weighted % 10)


def serial_capacity(company_prefix: str) -> int:
    """The largest serial reference an SSCC under `company_prefix` can hold (a longer prefix leaves fewer digits)."""
    return 10 ** _serial_length(company_prefix) - 1


def build_sscc(extension_digit: int, company_prefix: str, serial_reference: int) -> str:
    """The 18-digit SSCC: extension digit, company prefix, serial reference zero-padded, check digit.

    Raises ValueError when the extension is not one digit, the prefix is not 7 to 10 digits, or the serial is
    negative or does not fit the digits the prefix leaves (see `serial_capacity`).
    """
    if not 0 <= extension_digit <= 9:
        raise ValueError(f"the SSCC extension digit must be 0 to 9, not {extension_digit}")
    serial_length = _serial_length(company_prefix)
    if not 0 <= serial_reference <= serial_capacity(company_prefix):
        raise ValueError(
            f"serial reference {serial_reference} does not fit the {serial_length} digits GS1 company prefix"
            f" {company_prefix} leaves (0 to {serial_capacity(company_prefix)})"
        )
    data = f"{extension_digit}{company_prefix}{serial_reference:0{serial_length}d}"
    return data + check_digit(data)


def sscc_problem(value: str) -> str | None:
    """None when `value` is a valid SSCC; otherwise what is wrong with it, naming the check digit GS1 expects."""
    if len(value) != SSCC_LENGTH or not value.isascii() or not value.isdigit():
        return f"SSCC {value!r} is not {SSCC_LENGTH} digits"
    expected = check_digit(value[:DATA_LENGTH])
    if value[DATA_LENGTH] != expected:
        return f"SSCC {value} has check digit {value[DATA_LENGTH]}, GS1 gives {expected}"
    return None


def human_readable(sscc: str, company_prefix_length: int) -> str:
    """The SSCC as printed under its barcode: ``(00) 0 5060123 000000001 6`` (AI, extension, prefix, serial, check).

    The prefix length cannot be read from the SSCC itself, so the caller gives it (from configuration).
    """
    problem = sscc_problem(sscc)
    if problem is not None:
        raise ValueError(problem)
    if not MIN_COMPANY_PREFIX_LENGTH <= company_prefix_length <= MAX_COMPANY_PREFIX_LENGTH:
        raise ValueError(
            f"a GS1 company prefix has {MIN_COMPANY_PREFIX_LENGTH} to {MAX_COMPANY_PREFIX_LENGTH} digits,"
            f" not {company_prefix_length}"
        )
    prefix_end = 1 + company_prefix_length
    parts = (sscc[0], sscc[1:prefix_end], sscc[prefix_end:DATA_LENGTH], sscc[DATA_LENGTH])
    return f"({APPLICATION_IDENTIFIER}) " + " ".join(parts)


def _serial_length(company_prefix: str) -> int:
    if not (
        MIN_COMPANY_PREFIX_LENGTH <= len(company_prefix) <= MAX_COMPANY_PREFIX_LENGTH
        and company_prefix.isascii()
        and company_prefix.isdigit()
    ):
        raise ValueError(
            f"a GS1 company prefix is {MIN_COMPANY_PREFIX_LENGTH} to {MAX_COMPANY_PREFIX_LENGTH} digits,"
            f" not {company_prefix!r}"
        )
    return DATA_LENGTH - 1 - len(company_prefix)
