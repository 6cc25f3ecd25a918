"""Tests for pipelines.settings: locations (env vars / CLI flags) and the business configuration file."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.settings import (
    ENV_VARS,
    EXAMPLE_CONFIG,
    ApprovalSettings,
    BankSettings,
    BusinessConfig,
    CompanySettings,
    LeadTimes,
    Locations,
    NominalSettings,
    SettingsError,
    ShippingSettings,
    Tolerances,
    VendorCode,
    load_business_config,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "configuration.md"

# A valid configuration kept separate from the example file, so editing the example's values for
# readers cannot break the validation tests. Each test changes exactly one line of it.
VALID = """\
[company]
name = "Hartley & Finch Ltd"
timezone = "Europe/London"
base_currency = "GBP"
gs1_company_prefix = "5060123"

[[vendor_codes]]
code = "HAFIN"
marketplace = "UK"
sage_customer_account = "AMA001"
edi_standard = "EDIFACT"
currency = "GBP"

[banks]
clearing = "AMZCLR"
real = "BARC01"
in_transit = "CIT01"
use_in_transit = false

[nominal]
suspense = "9999"
deductions_under_dispute = "1150"

[tolerances]
price_tolerance_percent = "1.0"
remittance_amount_tolerance = "0.05"

[lead_times]
backorder_days = 7
ack_deadline_hours = 24

[approval]
posting_threshold = "5000.00"
"""

SECTIONS = {
    "company": CompanySettings,
    "vendor_codes": VendorCode,
    "banks": BankSettings,
    "nominal": NominalSettings,
    "tolerances": Tolerances,
    "lead_times": LeadTimes,
    "approval": ApprovalSettings,
    "shipping": ShippingSettings,
}
OPTIONAL = {
    "banks.in_transit",
    "banks.use_in_transit",
    "nominal.deductions_under_dispute",
    "vendor_codes.freight_terms",
    "shipping.carton_eaches",
    "shipping.cartons_per_pallet",
    "shipping.sscc_extension_digit",
    "approval.auto_approve",
}
ALL_SETTINGS = [f"{section}.{field.name}" for section, schema in SECTIONS.items() for field in fields(schema)]


def edited(old: str, new: str, text: str = VALID) -> str:
    """``text`` with ``old`` replaced by ``new``; fails loudly if ``old`` is absent, so no test is vacuous."""
    assert old in text, f"{old!r} not in the test configuration"
    return text.replace(old, new, 1)


def write(tmp_path: Path, text: str) -> Path:
    """Write ``text`` as ``avc2sage.toml`` in ``tmp_path`` and return its path."""
    path = tmp_path / "avc2sage.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    """Load ``text`` as a configuration and return the SettingsError message it must raise."""
    with pytest.raises(SettingsError) as caught:
        load_business_config(write(tmp_path, text))
    return str(caught.value)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    """``tmp_path`` without symlinks (macOS: /var → /private/var), as Locations resolves paths."""
    return tmp_path.resolve()


# --------------------------------------------------------------------------------------------------
# The example file and the docs
# --------------------------------------------------------------------------------------------------


def test_example_config_is_the_shipped_file_in_the_repo_root() -> None:
    assert EXAMPLE_CONFIG == REPO_ROOT / "avc2sage.example.toml"
    assert EXAMPLE_CONFIG.is_file()


def test_example_config_loads_with_concrete_values() -> None:
    config = load_business_config(EXAMPLE_CONFIG)

    assert config.company == CompanySettings(
        name="Hartley & Finch Ltd",
        timezone="Europe/London",
        base_currency="GBP",
        gs1_company_prefix="5060123",
    )
    assert config.company.tzinfo.key == "Europe/London"
    assert config.vendor_codes == (
        VendorCode(
            code="HAFIN",
            marketplace="UK",
            sage_customer_account="AMA001",
            edi_standard="EDIFACT",
            currency="GBP",
        ),
        VendorCode(
            code="HAFIX",
            marketplace="UK",
            sage_customer_account="AMA001",
            edi_standard="X12",
            currency="GBP",
        ),
    )
    assert config.banks == BankSettings(clearing="AMZCLR", real="BARC01", in_transit="CIT01", use_in_transit=False)
    assert config.nominal == NominalSettings(suspense="9999", deductions_under_dispute="1150")
    assert config.lead_times == LeadTimes(backorder_days=7, ack_deadline_hours=24)

    # Money and percentages must be exact Decimals, never floats.
    assert type(config.tolerances.price_tolerance_percent) is Decimal
    assert config.tolerances.price_tolerance_percent == Decimal("1.0")
    assert type(config.tolerances.remittance_amount_tolerance) is Decimal
    assert config.tolerances.remittance_amount_tolerance == Decimal("0.05")
    assert type(config.approval.posting_threshold) is Decimal
    assert str(config.approval.posting_threshold) == "5000.00"


def test_example_config_shows_every_setting() -> None:
    document = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))

    assert set(document) == set(SECTIONS)
    for section, schema in SECTIONS.items():
        tables = document[section] if section == "vendor_codes" else [document[section]]
        for table in tables:
            assert set(table) == {field.name for field in fields(schema)}, section


def test_example_config_explains_every_setting_with_a_comment() -> None:
    lines = EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines()
    settings = [n for n, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]

    vendor_code_blocks = sum(1 for line in lines if line.strip() == "[[vendor_codes]]")
    vendor_code_keys = sum(1 for setting in ALL_SETTINGS if setting.startswith("vendor_codes."))
    # Every setting once, each vendor code block's keys once per block.
    assert len(settings) == len(ALL_SETTINGS) + (vendor_code_blocks - 1) * vendor_code_keys
    for n in settings:
        assert lines[n - 1].lstrip().startswith("#"), f"no comment above line {n + 1}: {lines[n]}"


def test_docs_describe_every_location_and_setting() -> None:
    doc = DOC.read_text(encoding="utf-8")

    for name, env_var in ENV_VARS.items():
        assert env_var in doc
        assert "--" + name.replace("_", "-") in doc
    for setting in ALL_SETTINGS:
        assert f"`{setting.split('.')[-1]}`" in doc, setting


# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------


def test_defaults_resolve_against_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "avc2sage.toml").write_text(VALID, encoding="utf-8")
    cwd = tmp_path.resolve()

    locations = Locations.resolve(environ={})

    assert locations == Locations(
        warehouse=cwd / "data" / "warehouse" / "avc2sage.duckdb",
        inbox=cwd / "data" / "inbox",
        outbox=cwd / "data" / "outbox",
        sage_url="http://127.0.0.1:8200/uk/sage200extra/accounts/v1/",
        config=cwd / "avc2sage.toml",
    )


def test_environment_variables_override_defaults(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Uses the real process environment, which is what ``environ`` defaults to.
    monkeypatch.setenv("AVC2SAGE_WAREHOUSE", str(tmp / "env.duckdb"))
    monkeypatch.setenv("AVC2SAGE_INBOX", str(tmp / "env-in"))
    monkeypatch.setenv("AVC2SAGE_OUTBOX", str(tmp / "env-out"))
    monkeypatch.setenv("AVC2SAGE_SAGE_URL", "https://sage.example.co.uk/api/v1/")
    monkeypatch.setenv("AVC2SAGE_CONFIG", str(tmp / "env.toml"))

    locations = Locations.resolve()

    assert locations.warehouse == tmp / "env.duckdb"
    assert locations.inbox == tmp / "env-in"
    assert locations.outbox == tmp / "env-out"
    assert locations.sage_url == "https://sage.example.co.uk/api/v1/"
    assert locations.config == tmp / "env.toml"


def test_cli_values_override_environment_variables(tmp: Path) -> None:
    environ = {
        "AVC2SAGE_WAREHOUSE": str(tmp / "env.duckdb"),
        "AVC2SAGE_INBOX": str(tmp / "env-in"),
        "AVC2SAGE_OUTBOX": str(tmp / "env-out"),
        "AVC2SAGE_SAGE_URL": "https://env.example.co.uk/",
        "AVC2SAGE_CONFIG": str(tmp / "env.toml"),
    }

    locations = Locations.resolve(
        warehouse=tmp / "cli.duckdb",
        inbox=str(tmp / "cli-in"),
        outbox=tmp / "cli-out",
        sage_url="https://cli.example.co.uk/sage",
        config=tmp / "cli.toml",
        environ=environ,
    )

    assert locations == Locations(
        warehouse=tmp / "cli.duckdb",
        inbox=tmp / "cli-in",
        outbox=tmp / "cli-out",
        sage_url="https://cli.example.co.uk/sage/",
        config=tmp / "cli.toml",
    )


def test_cli_value_wins_only_for_the_setting_it_names(tmp: Path) -> None:
    environ = {"AVC2SAGE_INBOX": str(tmp / "env-in"), "AVC2SAGE_OUTBOX": str(tmp / "env-out")}

    locations = Locations.resolve(inbox=tmp / "cli-in", environ=environ)

    assert locations.inbox == tmp / "cli-in"
    assert locations.outbox == tmp / "env-out"


def test_relative_paths_resolve_against_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    cwd = tmp_path.resolve() / "run"

    locations = Locations.resolve(
        warehouse="wh/test.duckdb",
        config="../shared/avc2sage.toml",
        environ={"AVC2SAGE_INBOX": "in", "AVC2SAGE_OUTBOX": "./out"},
    )

    assert locations.warehouse == cwd / "wh" / "test.duckdb"
    assert locations.inbox == cwd / "in"
    assert locations.outbox == cwd / "out"
    assert locations.config == tmp_path.resolve() / "shared" / "avc2sage.toml"
    assert all(path.is_absolute() for path in (locations.warehouse, locations.inbox, locations.config))


def test_home_directory_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    locations = Locations.resolve(environ={"AVC2SAGE_WAREHOUSE": "~/avc2sage.duckdb"})

    assert locations.warehouse == tmp_path.resolve() / "avc2sage.duckdb"


def test_blank_environment_variable_means_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    locations = Locations.resolve(environ={"AVC2SAGE_INBOX": "", "AVC2SAGE_SAGE_URL": "  "})

    assert locations.inbox == tmp_path.resolve() / "data" / "inbox"
    assert locations.sage_url == "http://127.0.0.1:8200/uk/sage200extra/accounts/v1/"


def test_missing_default_config_falls_back_to_the_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO, logger="pipelines.settings")

    locations = Locations.resolve(environ={})

    assert locations.config == EXAMPLE_CONFIG
    [record] = [r for r in caplog.records if "example" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert str(EXAMPLE_CONFIG) in record.getMessage()
    assert "avc2sage.toml" in record.getMessage()


def test_existing_default_config_is_used_without_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "avc2sage.toml").write_text(VALID, encoding="utf-8")
    caplog.set_level(logging.INFO, logger="pipelines.settings")

    locations = Locations.resolve(environ={})

    assert locations.config == tmp_path.resolve() / "avc2sage.toml"
    assert not [r for r in caplog.records if "example" in r.getMessage()]


def test_explicit_config_never_falls_back_to_the_example(tmp: Path) -> None:
    missing = tmp / "typo.toml"

    from_env = Locations.resolve(environ={"AVC2SAGE_CONFIG": str(missing)})
    from_cli = Locations.resolve(config=missing, environ={})

    # A wrong explicit path must fail when loaded, not silently run on the example's accounts.
    assert from_env.config == missing
    assert from_cli.config == missing
    with pytest.raises(SettingsError, match=r"typo\.toml: file not found"):
        load_business_config(from_env.config)


def test_export_names_every_environment_variable(tmp: Path) -> None:
    locations = Locations.resolve(
        warehouse=tmp / "w.duckdb",
        inbox=tmp / "in",
        outbox=tmp / "out",
        sage_url="http://sage.local:8200/v1",
        config=tmp / "c.toml",
        environ={},
    )

    assert locations.export() == {
        "AVC2SAGE_WAREHOUSE": str(tmp / "w.duckdb"),
        "AVC2SAGE_INBOX": str(tmp / "in"),
        "AVC2SAGE_OUTBOX": str(tmp / "out"),
        "AVC2SAGE_SAGE_URL": "http://sage.local:8200/v1/",
        "AVC2SAGE_CONFIG": str(tmp / "c.toml"),
    }


def test_export_round_trips_through_a_child_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "parent").mkdir()
    (tmp_path / "child").mkdir()
    monkeypatch.chdir(tmp_path / "parent")
    parent = Locations.resolve(warehouse="w.duckdb", sage_url="https://sage.example.co.uk", environ={})

    # The child (dbt, dagster, streamlit) may run in another directory; it must see the same values.
    monkeypatch.chdir(tmp_path / "child")
    child = Locations.resolve(environ=parent.export())

    assert child == parent
    assert child.warehouse == tmp_path.resolve() / "parent" / "w.duckdb"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "http://127.0.0.1:8200/uk/sage200extra/accounts/v1",
            "http://127.0.0.1:8200/uk/sage200extra/accounts/v1/",
        ),
        ("https://sage.example.co.uk/", "https://sage.example.co.uk/"),
        ("https://sage.example.co.uk", "https://sage.example.co.uk/"),
    ],
)
def test_sage_url_always_ends_with_a_slash(given: str, expected: str) -> None:
    assert Locations.resolve(sage_url=given, environ={}).sage_url == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://sage.example.co.uk/",
        "sage.example.co.uk/v1/",
        "127.0.0.1:8200/v1/",
        "http://",
        "https://sage/v1?x=1",
    ],
)
def test_sage_url_must_be_http_or_https(url: str) -> None:
    with pytest.raises(SettingsError, match=r"^AVC2SAGE_SAGE_URL: "):
        Locations.resolve(environ={"AVC2SAGE_SAGE_URL": url})
    with pytest.raises(SettingsError, match=r"^--sage-url: "):
        Locations.resolve(sage_url=url, environ={})


# --------------------------------------------------------------------------------------------------
# Business configuration: lookups
# --------------------------------------------------------------------------------------------------


def test_vendor_lookup(tmp_path: Path) -> None:
    second = '\n[[vendor_codes]]\ncode = "HAFDE"\nmarketplace = "DE"\nsage_customer_account = "AMA002"\n'
    second += 'edi_standard = "EDIFACT"\ncurrency = "EUR"\n'
    config = load_business_config(write(tmp_path, edited("\n[banks]", second + "\n[banks]")))

    assert [vendor.code for vendor in config.vendor_codes] == ["HAFIN", "HAFDE"]
    assert config.vendor("HAFDE").currency == "EUR"
    assert config.vendor("HAFIN").sage_customer_account == "AMA001"
    with pytest.raises(KeyError, match=r"'NOPE1' is not in the business configuration \(configured: HAFIN, HAFDE\)"):
        config.vendor("NOPE1")


def test_business_config_is_immutable(tmp_path: Path) -> None:
    config = load_business_config(write(tmp_path, VALID))

    assert isinstance(config, BusinessConfig)
    with pytest.raises(AttributeError):
        config.banks.clearing = "OTHER"  # type: ignore[misc]


def test_in_transit_bank_is_optional(tmp_path: Path) -> None:
    text = edited('in_transit = "CIT01"\n', "", edited("use_in_transit = false\n", ""))

    banks = load_business_config(write(tmp_path, text)).banks

    assert banks.in_transit is None
    assert banks.use_in_transit is False


def test_deductions_under_dispute_nominal_is_optional(tmp_path: Path) -> None:
    text = edited('deductions_under_dispute = "1150"\n', "")

    assert load_business_config(write(tmp_path, text)).nominal.deductions_under_dispute is None


# --------------------------------------------------------------------------------------------------
# Business configuration: validation, one rule per test
# --------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^nowhere\.toml: file not found at "):
        load_business_config(tmp_path / "nowhere.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('real = "BARC01"', "real = BARC01"))

    assert message.startswith("avc2sage.toml: not valid TOML")


@pytest.mark.parametrize("setting", [s for s in ALL_SETTINGS if s not in OPTIONAL])
def test_every_required_setting_must_be_present(tmp_path: Path, setting: str) -> None:
    section, key = setting.split(".")
    table_start = VALID.index(f"[{section}]")
    line_start = VALID.index(f"\n{key} = ", table_start) + 1
    line_end = VALID.index("\n", line_start) + 1
    text = VALID[:line_start] + VALID[line_end:]

    assert (
        load_error(tmp_path, text) == f"avc2sage.toml: {setting.replace('vendor_codes', 'vendor_codes[0]')} is missing"
    )


def test_missing_section(tmp_path: Path) -> None:
    text = edited('[banks]\nclearing = "AMZCLR"\nreal = "BARC01"\nin_transit = "CIT01"\nuse_in_transit = false\n', "")

    assert load_error(tmp_path, text) == "avc2sage.toml: banks is missing (add a [banks] section)"


def test_unknown_key_in_a_section_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('clearing = "AMZCLR"', 'clearng = "AMZCLR"'))

    assert message == "avc2sage.toml: banks.clearng is not a known setting (did you mean 'clearing'?)"


def test_unknown_key_in_a_vendor_code(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('edi_standard = "EDIFACT"\n', 'edi_standard = "EDIFACT"\ncolour = "blue"\n'))

    assert message.startswith("avc2sage.toml: vendor_codes[0].colour is not a known setting (known: code, ")


def test_unknown_section(tmp_path: Path) -> None:
    message = load_error(tmp_path, VALID + '\n[bank]\nclearing = "AMZCLR"\n')

    assert message == "avc2sage.toml: bank is not a known setting (did you mean 'banks'?)"


def test_section_must_be_a_table(tmp_path: Path) -> None:
    text = 'approval = "5000.00"\n' + edited('[approval]\nposting_threshold = "5000.00"\n', "")

    assert load_error(tmp_path, text) == "avc2sage.toml: approval must be a table, not text"


def test_text_setting_must_be_quoted_text(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('suspense = "9999"', "suspense = 9999"))

    assert message == "avc2sage.toml: nominal.suspense must be text in quotes, not a whole number"


def test_text_setting_must_not_be_empty(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('name = "Hartley & Finch Ltd"', 'name = "  "'))

    assert message == "avc2sage.toml: company.name must not be empty"


@pytest.mark.parametrize(
    ("line", "value", "setting"),
    [
        ('sage_customer_account = "AMA001"', "TOOLONGREF", "vendor_codes[0].sage_customer_account"),
        ('clearing = "AMZCLR"', "AMAZONCLR", "banks.clearing"),
        ('real = "BARC01"', "BARCLAYS1", "banks.real"),
        ('in_transit = "CIT01"', "INTRANSIT", "banks.in_transit"),
        ('suspense = "9999"', "SUSPENSE9", "nominal.suspense"),
        ('deductions_under_dispute = "1150"', "DISPUTED1", "nominal.deductions_under_dispute"),
    ],
)
def test_sage_references_respect_sage_max_lengths(tmp_path: Path, line: str, value: str, setting: str) -> None:
    key = line.split(" = ")[0]
    message = load_error(tmp_path, edited(line, f'{key} = "{value}"'))

    assert message.startswith(f"avc2sage.toml: {setting}: '{value}' is longer than 8 characters")


def test_eight_character_sage_reference_is_allowed(tmp_path: Path) -> None:
    text = edited('sage_customer_account = "AMA001"', 'sage_customer_account = "AMAZONUK"')

    assert load_business_config(write(tmp_path, text)).vendor("HAFIN").sage_customer_account == "AMAZONUK"


def test_money_as_float_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('posting_threshold = "5000.00"', "posting_threshold = 5000.00"))

    assert message == (
        'avc2sage.toml: approval.posting_threshold must be a quoted decimal string such as "5000.00", not a float'
    )


def test_percent_as_float_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('price_tolerance_percent = "1.0"', "price_tolerance_percent = 1.0"))

    assert message == (
        'avc2sage.toml: tolerances.price_tolerance_percent must be a quoted decimal string such as "1.0", not a float'
    )


def test_money_as_bare_integer_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('posting_threshold = "5000.00"', "posting_threshold = 5000"))

    assert message.endswith(
        'approval.posting_threshold must be a quoted decimal string such as "5000.00", not a whole number'
    )


@pytest.mark.parametrize("value", ["five pounds", "NaN", "Infinity", ""])
def test_money_must_be_a_decimal_number(tmp_path: Path, value: str) -> None:
    message = load_error(
        tmp_path, edited('remittance_amount_tolerance = "0.05"', f'remittance_amount_tolerance = "{value}"')
    )

    assert message == (
        f"avc2sage.toml: tolerances.remittance_amount_tolerance: '{value}' is not a decimal number such as \"0.05\""
    )


def test_money_must_not_be_negative(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('posting_threshold = "5000.00"', 'posting_threshold = "-1.00"'))

    assert message == "avc2sage.toml: approval.posting_threshold: '-1.00' must not be negative"


def test_percent_must_be_at_most_100(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('price_tolerance_percent = "1.0"', 'price_tolerance_percent = "150"'))

    assert message == "avc2sage.toml: tolerances.price_tolerance_percent: '150' must be at most 100"


def test_vendor_codes_must_be_unique(tmp_path: Path) -> None:
    block = VALID[VALID.index("[[vendor_codes]]") : VALID.index("[banks]")]
    text = edited("[banks]", block.replace("AMA001", "AMA002") + "[banks]")

    message = load_error(tmp_path, text)

    assert message == "avc2sage.toml: vendor_codes[1].code: 'HAFIN' is already used by vendor_codes[0]"


@pytest.mark.parametrize("code", ["HAFI", "HAFINC", "hafin", "HA-FI", "HAFİN"])
def test_vendor_code_is_five_capital_letters_or_digits(tmp_path: Path, code: str) -> None:
    message = load_error(tmp_path, edited('code = "HAFIN"', f'code = "{code}"'))

    assert message.startswith(f"avc2sage.toml: vendor_codes[0].code: '{code}' must be 5 capital letters or digits")


def test_at_least_one_vendor_code(tmp_path: Path) -> None:
    block = VALID[VALID.index("[[vendor_codes]]") : VALID.index("[banks]")]

    message = load_error(tmp_path, edited(block, ""))

    assert message == "avc2sage.toml: vendor_codes needs at least one [[vendor_codes]] block"


def test_empty_vendor_code_list(tmp_path: Path) -> None:
    block = VALID[VALID.index("[[vendor_codes]]") : VALID.index("[banks]")]

    message = load_error(tmp_path, "vendor_codes = []\n" + edited(block, ""))

    assert message == "avc2sage.toml: vendor_codes needs at least one [[vendor_codes]] block"


def test_vendor_codes_must_be_blocks(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited("[[vendor_codes]]", "[vendor_codes]"))

    assert message == "avc2sage.toml: vendor_codes must be written as [[vendor_codes]] blocks"


@pytest.mark.parametrize("timezone", ["Europe/Londn", "Europe", "GMT+1", "../etc/passwd"])
def test_timezone_must_exist(tmp_path: Path, timezone: str) -> None:
    message = load_error(tmp_path, edited('timezone = "Europe/London"', f'timezone = "{timezone}"'))

    assert message == (
        f"avc2sage.toml: company.timezone: '{timezone}' is not a time zone name such as \"Europe/London\""
    )


@pytest.mark.parametrize("marketplace", ["GB", "uk", "Amazon.co.uk"])
def test_marketplace_must_be_known(tmp_path: Path, marketplace: str) -> None:
    message = load_error(tmp_path, edited('marketplace = "UK"', f'marketplace = "{marketplace}"'))

    assert message.startswith(f"avc2sage.toml: vendor_codes[0].marketplace: '{marketplace}' is not one of ")
    assert "UK" in message.split("is not one of ")[1]


@pytest.mark.parametrize("standard", ["EDI", "edifact", "X.12"])
def test_edi_standard_must_be_known(tmp_path: Path, standard: str) -> None:
    message = load_error(tmp_path, edited('edi_standard = "EDIFACT"', f'edi_standard = "{standard}"'))

    assert message == f"avc2sage.toml: vendor_codes[0].edi_standard: '{standard}' is not one of API, EDIFACT, X12"


@pytest.mark.parametrize(
    ("line", "setting"),
    [('base_currency = "GBP"', "company.base_currency"), ('currency = "GBP"', "vendor_codes[0].currency")],
)
def test_currency_must_be_a_three_letter_code(tmp_path: Path, line: str, setting: str) -> None:
    key = line.split(" = ")[0]
    message = load_error(tmp_path, edited(f"\n{line}", f'\n{key} = "Sterling"'))

    assert message == f"avc2sage.toml: {setting}: 'Sterling' is not a three-letter currency code such as \"GBP\""


@pytest.mark.parametrize("prefix", ["506012", "50601234567", "50601A3", "506 0123"])
def test_gs1_prefix_is_7_to_10_digits(tmp_path: Path, prefix: str) -> None:
    message = load_error(tmp_path, edited('gs1_company_prefix = "5060123"', f'gs1_company_prefix = "{prefix}"'))

    assert message == f"avc2sage.toml: company.gs1_company_prefix: '{prefix}' must be 7 to 10 digits"


def test_gs1_prefix_of_10_digits_with_leading_zero_is_kept(tmp_path: Path) -> None:
    text = edited('gs1_company_prefix = "5060123"', 'gs1_company_prefix = "0012345678"')

    assert load_business_config(write(tmp_path, text)).company.gs1_company_prefix == "0012345678"


def test_gs1_prefix_must_be_quoted(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited('gs1_company_prefix = "5060123"', "gs1_company_prefix = 5060123"))

    assert message == 'avc2sage.toml: company.gs1_company_prefix must be a quoted string of digits such as "5060123"'


def test_use_in_transit_needs_an_in_transit_bank(tmp_path: Path) -> None:
    text = edited('in_transit = "CIT01"\n', "", edited("use_in_transit = false", "use_in_transit = true"))

    message = load_error(tmp_path, text)

    assert message == "avc2sage.toml: banks.in_transit is missing; it is needed because banks.use_in_transit = true"


def test_use_in_transit_must_be_true_or_false(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited("use_in_transit = false", 'use_in_transit = "false"'))

    assert message == "avc2sage.toml: banks.use_in_transit must be true or false (without quotes), not text"


@pytest.mark.parametrize(
    ("old", "new", "setting", "other"),
    [
        ('real = "BARC01"', 'real = "AMZCLR"', "banks.real", "clearing"),
        ('in_transit = "CIT01"', 'in_transit = "BARC01"', "banks.in_transit", "real"),
    ],
)
def test_each_bank_role_needs_its_own_bank(tmp_path: Path, old: str, new: str, setting: str, other: str) -> None:
    message = load_error(tmp_path, edited(old, new))

    assert message.startswith(f"avc2sage.toml: {setting}: ")
    assert f"is the same bank as banks.{other}" in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"7"', "backorder_days must be a whole number, not text"),
        ("7.5", "backorder_days must be a whole number, not a float"),
        ("true", "backorder_days must be a whole number, not true/false"),
        ("-1", "backorder_days: -1 must be at least 0"),
    ],
)
def test_backorder_days_is_a_whole_number_of_days(tmp_path: Path, value: str, problem: str) -> None:
    message = load_error(tmp_path, edited("backorder_days = 7", f"backorder_days = {value}"))

    assert message == f"avc2sage.toml: lead_times.{problem}"


def test_ack_deadline_must_be_at_least_one_hour(tmp_path: Path) -> None:
    message = load_error(tmp_path, edited("ack_deadline_hours = 24", "ack_deadline_hours = 0"))

    assert message == "avc2sage.toml: lead_times.ack_deadline_hours: 0 must be at least 1"


def test_error_names_the_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "hartley-finch.toml"
    path.write_text(edited('clearing = "AMZCLR"\n', ""), encoding="utf-8")

    with pytest.raises(SettingsError, match=r"^hartley-finch\.toml: banks\.clearing is missing$"):
        load_business_config(path)
