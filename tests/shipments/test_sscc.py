"""SSCCs: GS1's mod-10 check digit, building one from prefix and serial, the capacity a prefix leaves, why a
value is not a valid SSCC, and the human-readable line under the barcode."""

from __future__ import annotations

import pytest

from pipelines.shipments.sscc import build_sscc, check_digit, human_readable, serial_capacity, sscc_problem


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        # GS1's own worked examples: an SSCC and a GTIN-13.
        ("10614141123456789", "7"),
        ("00614141123456789", "0"),
        ("629104150021", "3"),
        ("05060123000000001", "6"),
        ("00000000000000000", "0"),
    ],
)
def test_check_digit_is_gs1_mod_10(digits: str, expected: str) -> None:
    assert check_digit(digits) == expected


@pytest.mark.parametrize("digits", ["", "1234x", "１２３"])
def test_check_digit_refuses_anything_but_digits(digits: str) -> None:
    with pytest.raises(ValueError, match=r"^a GS1 check digit is computed over digits only, not "):
        check_digit(digits)


def test_build_sscc_pads_the_serial_to_the_digits_the_prefix_leaves() -> None:
    assert build_sscc(0, "5060123", 1) == "050601230000000016"
    assert build_sscc(1, "0614141", 123456789) == "106141411234567897"
    assert build_sscc(3, "5060123456", 42) == "350601234560000425"


def test_serial_capacity_shrinks_as_the_prefix_grows() -> None:
    assert serial_capacity("5060123") == 999_999_999
    assert serial_capacity("5060123456") == 999_999
    assert build_sscc(9, "5060123456", 999_999) == "950601234569999999"


def test_build_sscc_refuses_a_serial_that_does_not_fit() -> None:
    with pytest.raises(ValueError) as refused:
        build_sscc(0, "5060123456", 1_000_000)
    assert str(refused.value) == (
        "serial reference 1000000 does not fit the 6 digits GS1 company prefix 5060123456 leaves (0 to 999999)"
    )
    with pytest.raises(ValueError, match=r"^serial reference -1 does not fit"):
        build_sscc(0, "5060123", -1)


@pytest.mark.parametrize("prefix", ["506012", "50601234567", "50601A3"])
def test_build_sscc_refuses_a_company_prefix_that_is_not_7_to_10_digits(prefix: str) -> None:
    with pytest.raises(ValueError) as refused:
        build_sscc(0, prefix, 1)
    assert str(refused.value) == f"a GS1 company prefix is 7 to 10 digits, not {prefix!r}"


def test_build_sscc_refuses_an_extension_that_is_not_one_digit() -> None:
    with pytest.raises(ValueError) as refused:
        build_sscc(10, "5060123", 1)
    assert str(refused.value) == "the SSCC extension digit must be 0 to 9, not 10"


def test_sscc_problem_is_none_for_a_valid_sscc() -> None:
    assert sscc_problem("050601230000000016") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("050601230000000018", "SSCC 050601230000000018 has check digit 8, GS1 gives 6"),
        ("05060123000000001", "SSCC '05060123000000001' is not 18 digits"),
        ("0506012300000000166", "SSCC '0506012300000000166' is not 18 digits"),
        ("05060123000000001X", "SSCC '05060123000000001X' is not 18 digits"),
        ("", "SSCC '' is not 18 digits"),
    ],
)
def test_sscc_problem_says_what_is_wrong(value: str, problem: str) -> None:
    assert sscc_problem(value) == problem


def test_human_readable_groups_ai_extension_prefix_serial_and_check_digit() -> None:
    assert human_readable("050601230000000016", 7) == "(00) 0 5060123 000000001 6"
    assert human_readable("350601234560000425", 10) == "(00) 3 5060123456 000042 5"


def test_human_readable_refuses_an_invalid_sscc_or_prefix_length() -> None:
    with pytest.raises(ValueError) as refused:
        human_readable("050601230000000018", 7)
    assert str(refused.value) == "SSCC 050601230000000018 has check digit 8, GS1 gives 6"
    with pytest.raises(ValueError) as refused:
        human_readable("050601230000000016", 6)
    assert str(refused.value) == "a GS1 company prefix has 7 to 10 digits, not 6"
