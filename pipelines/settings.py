"""Where avc2sage keeps its files, and how the business is set up.

There are two kinds of settings, deliberately kept apart:

* **Locations** (:class:`Locations`) say *where* things are: the DuckDB warehouse, the EDI inbox and
  outbox, the Sage 200 API and the business configuration file. Each has exactly one environment
  variable (``AVC2SAGE_*``) that dlt, dbt, Dagster and Streamlit all read, and a CLI flag that
  overrides it. :meth:`Locations.export` hands the resolved values to child processes so every tool
  in one run agrees on them.
* **Business configuration** (:class:`BusinessConfig`) says *how the business is set up*: company,
  Amazon vendor codes, Sage bank and nominal accounts, tolerances, lead times and approval limits.
  It lives in one TOML file (see ``avc2sage.example.toml`` and ``docs/configuration.md``) and is
  validated strictly, because a typo there would otherwise surface weeks later as a wrong posting.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

#: The commented example configuration shipped in the repository root; used when no
#: ``avc2sage.toml`` exists so a fresh checkout runs the demo without any setup.
EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "avc2sage.example.toml"

#: The environment variable behind each :class:`Locations` field. The CLI flag is the field name
#: with dashes (``sage_url`` → ``--sage-url``).
ENV_VARS: dict[str, str] = {
    "warehouse": "AVC2SAGE_WAREHOUSE",
    "inbox": "AVC2SAGE_INBOX",
    "outbox": "AVC2SAGE_OUTBOX",
    "sage_url": "AVC2SAGE_SAGE_URL",
    "config": "AVC2SAGE_CONFIG",
}

DEFAULT_WAREHOUSE = "data/warehouse/avc2sage.duckdb"
DEFAULT_INBOX = "data/inbox"
DEFAULT_OUTBOX = "data/outbox"
DEFAULT_SAGE_URL = "http://127.0.0.1:8200/uk/sage200extra/accounts/v1/"
DEFAULT_CONFIG = "avc2sage.toml"

# Maximum lengths from the Sage 200 API schemas in pipelines/sage200/openapi (customer.reference,
# bank.code, nominal_code.reference). Checking them here stops a posting failing at Sage instead.
SAGE_CUSTOMER_REFERENCE_MAX = 8
SAGE_BANK_CODE_MAX = 8
SAGE_NOMINAL_REFERENCE_MAX = 8

#: Amazon marketplaces a vendor code can belong to (Amazon's own codes, hence "UK" rather than "GB").
MARKETPLACES = frozenset(
    {"UK", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "US", "CA", "MX", "BR", "JP", "AU", "IN", "AE"}
)
EDI_STANDARDS = frozenset({"EDIFACT", "X12", "API"})
# Who books the carrier: we (prepaid, Amazon's "delivery window" POs) or Amazon (collect, "ship window" POs).
FREIGHT_TERMS = frozenset({"prepaid", "collect"})

_VENDOR_CODE = re.compile(r"[A-Z0-9]{5}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_GS1_PREFIX = re.compile(r"[0-9]{7,10}")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the setting and where it came from."""


# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locations:
    """Where avc2sage reads and writes, resolved to absolute paths.

    Attributes:
        warehouse: The DuckDB warehouse file shared by dlt, dbt, Dagster and the dashboard.
        inbox: Folder where incoming EDI / remittance files are picked up.
        outbox: Folder where outgoing EDI files are written.
        sage_url: Base URL of the Sage 200 API, always ending in ``/``.
        config: The business configuration TOML file.
    """

    warehouse: Path
    inbox: Path
    outbox: Path
    sage_url: str
    config: Path

    @classmethod
    def resolve(
        cls,
        *,
        warehouse: str | os.PathLike[str] | None = None,
        inbox: str | os.PathLike[str] | None = None,
        outbox: str | os.PathLike[str] | None = None,
        sage_url: str | None = None,
        config: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Locations:
        """Resolve every location: CLI value, else ``AVC2SAGE_*`` variable, else the default.

        Blank values count as not given, so ``AVC2SAGE_INBOX=`` in an env file means "use the
        default" rather than "the current directory". Relative paths are resolved against the
        current working directory. When neither ``--config`` nor ``AVC2SAGE_CONFIG`` is given and
        ``avc2sage.toml`` does not exist, the shipped example configuration is used instead.

        Raises:
            SettingsError: ``sage_url`` is not an http(s) URL.
        """
        given: dict[str, str | os.PathLike[str] | None] = {
            "warehouse": warehouse,
            "inbox": inbox,
            "outbox": outbox,
            "sage_url": sage_url,
            "config": config,
        }

        def pick(name: str) -> tuple[str | None, str]:
            """Return the value for ``name`` and the setting it came from, for error messages."""
            cli_value = given[name]
            if cli_value is not None and str(cli_value).strip():
                return os.fspath(cli_value), "--" + name.replace("_", "-")
            env_value = environ.get(ENV_VARS[name], "")
            if env_value.strip():
                return env_value, ENV_VARS[name]
            return None, "default"

        config_value, _ = pick("config")
        if config_value is None:
            config_path = _absolute(DEFAULT_CONFIG)
            if not config_path.exists():
                log.info(
                    "No %s in %s; using the example business configuration %s (set %s or --config to use your own)",
                    DEFAULT_CONFIG,
                    config_path.parent,
                    EXAMPLE_CONFIG,
                    ENV_VARS["config"],
                )
                config_path = EXAMPLE_CONFIG
        else:
            config_path = _absolute(config_value)

        url_value, url_source = pick("sage_url")
        return cls(
            warehouse=_absolute(pick("warehouse")[0] or DEFAULT_WAREHOUSE),
            inbox=_absolute(pick("inbox")[0] or DEFAULT_INBOX),
            outbox=_absolute(pick("outbox")[0] or DEFAULT_OUTBOX),
            sage_url=_sage_url(url_value or DEFAULT_SAGE_URL, url_source),
            config=config_path,
        )

    def export(self) -> dict[str, str]:
        """Return these locations as ``AVC2SAGE_*`` environment variables.

        Merge them into a child process's environment (``{**os.environ, **locations.export()}``) so
        dbt, Dagster and Streamlit use exactly the values this process resolved, CLI flags included.
        """
        return {ENV_VARS[field.name]: str(getattr(self, field.name)) for field in fields(self)}


def _absolute(value: str) -> Path:
    """Make ``value`` an absolute path, relative to the current working directory."""
    # expanduser because values from .env files, systemd units and Docker are not shell-expanded.
    return Path(value).expanduser().resolve()


def _sage_url(value: str, source: str) -> str:
    """Check the Sage 200 base URL and make it end with ``/``."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{source}: {value!r} is not an http:// or https:// URL")
    if parts.query or parts.fragment:
        raise SettingsError(f"{source}: {value!r} must be a base URL without '?' or '#'")
    url = value.strip()
    # Without the trailing slash, joining "customers" onto ".../accounts/v1" would replace "v1".
    return url if url.endswith("/") else url + "/"


# --------------------------------------------------------------------------------------------------
# Business configuration
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanySettings:
    """The company that sells to Amazon.

    Attributes:
        name: Legal name, as printed on invoices.
        timezone: IANA time zone name (e.g. ``Europe/London``) used for business dates and cut-offs.
        base_currency: ISO 4217 code of the Sage company's base currency.
        gs1_company_prefix: GS1 company prefix (7–10 digits) that starts the company's barcodes.
    """

    name: str
    timezone: str
    base_currency: str
    gs1_company_prefix: str

    @property
    def tzinfo(self) -> ZoneInfo:
        """The company's time zone, ready for ``datetime`` arithmetic."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class VendorCode:
    """One Amazon vendor code and how it maps onto Sage.

    Attributes:
        code: Amazon vendor code (5 capital letters or digits).
        marketplace: Amazon marketplace (see :data:`MARKETPLACES`).
        sage_customer_account: Sage customer account reference that Amazon's invoices post to.
        edi_standard: How orders and invoices are exchanged: ``EDIFACT``, ``X12`` or ``API``.
        currency: ISO 4217 currency Amazon orders and pays in for this vendor code.
        freight_terms: ``prepaid`` (we book the carrier) or ``collect`` (Amazon does); decides the ASN's
            carrier rules. Optional, ``prepaid`` when left out.
    """

    code: str
    marketplace: str
    sage_customer_account: str
    edi_standard: str
    currency: str
    freight_terms: str = "prepaid"


@dataclass(frozen=True)
class BankSettings:
    """Sage bank accounts used for Amazon remittances.

    Attributes:
        clearing: Dedicated Amazon clearing bank; remittances are allocated here first.
        real: The real bank account Amazon pays into.
        in_transit: Cash-in-transit bank for money Amazon has remitted but the bank not yet received.
        use_in_transit: Whether payments go through ``in_transit`` on their way to ``real``.
    """

    clearing: str
    real: str
    in_transit: str | None
    use_in_transit: bool


@dataclass(frozen=True)
class NominalSettings:
    """Sage nominal codes used when a remittance cannot be posted to a customer invoice.

    Attributes:
        suspense: Where unexplained amounts wait until someone investigates them.
        deductions_under_dispute: Where disputed Amazon deductions are parked, if kept separately.
    """

    suspense: str
    deductions_under_dispute: str | None


@dataclass(frozen=True)
class Tolerances:
    """How far figures may differ before a human has to look.

    Attributes:
        price_tolerance_percent: Allowed difference between Amazon's PO price and the price list, in %.
        remittance_amount_tolerance: Allowed difference between a remittance line and the invoice,
            in the remittance currency.
    """

    price_tolerance_percent: Decimal
    remittance_amount_tolerance: Decimal


@dataclass(frozen=True)
class LeadTimes:
    """Operational timings promised to Amazon.

    Attributes:
        backorder_days: Days to add to the ship date when an ordered item is backordered.
        ack_deadline_hours: Hours within which a purchase order must be acknowledged.
    """

    backorder_days: int
    ack_deadline_hours: int


@dataclass(frozen=True)
class ShippingSettings:
    """How despatches are packed and labelled for Amazon's ship notices.

    Attributes:
        carton_eaches: Most eaches packed in one carton when Amazon orders in eaches (a case-packed item
            always travels one case per carton).
        cartons_per_pallet: Cartons stacked on one pallet; 0 ships loose cartons.
        sscc_extension_digit: The SSCC's first digit (0-9), chosen by the company; 0 unless GS1 told you.
    """

    carton_eaches: int = 24
    cartons_per_pallet: int = 0
    sscc_extension_digit: int = 0


@dataclass(frozen=True)
class ApprovalSettings:
    """Four-eyes control on Sage postings.

    Attributes:
        posting_threshold: Payments whose posting plan moves more than this need a second approver.
        auto_approve: Whether fully matched payments with no exception, within the threshold, post without a
            person approving them. Optional, ``False`` (every payment waits for a person) when left out.
    """

    posting_threshold: Decimal
    auto_approve: bool = False


@dataclass(frozen=True)
class BusinessConfig:
    """The whole business configuration, validated."""

    company: CompanySettings
    vendor_codes: tuple[VendorCode, ...]
    banks: BankSettings
    nominal: NominalSettings
    tolerances: Tolerances
    lead_times: LeadTimes
    approval: ApprovalSettings
    shipping: ShippingSettings = ShippingSettings()

    def vendor(self, code: str) -> VendorCode:
        """Return the vendor code ``code``.

        Raises:
            KeyError: ``code`` is not configured; the message lists the configured codes.
        """
        for vendor in self.vendor_codes:
            if vendor.code == code:
                return vendor
        configured = ", ".join(vendor.code for vendor in self.vendor_codes)
        raise KeyError(f"vendor code {code!r} is not in the business configuration (configured: {configured})")


def load_business_config(path: Path) -> BusinessConfig:
    """Read and validate the business configuration TOML file at ``path``.

    Raises:
        SettingsError: The file is missing, is not valid TOML, or a setting is missing, unknown or
            invalid. The message names the file and the setting (e.g. ``banks.clearing``).
    """
    source = path.name
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise SettingsError(f"{source}: file not found at {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{source}: not valid TOML: {error}") from error

    root = _Table(source, "", document, BusinessConfig)
    config = BusinessConfig(
        company=_company(root.table("company", CompanySettings)),
        vendor_codes=_vendor_codes(root),
        banks=_banks(root.table("banks", BankSettings)),
        nominal=_nominal(root.table("nominal", NominalSettings)),
        tolerances=_tolerances(root.table("tolerances", Tolerances)),
        lead_times=_lead_times(root.table("lead_times", LeadTimes)),
        approval=_approval(root.table("approval", ApprovalSettings)),
        shipping=_shipping(root.optional_table("shipping", ShippingSettings)),
    )
    log.info("Loaded business configuration %s (%d vendor code(s))", path, len(config.vendor_codes))
    return config


def _company(table: _Table) -> CompanySettings:
    return CompanySettings(
        name=table.text("name"),
        timezone=_timezone(table),
        base_currency=table.currency("base_currency"),
        gs1_company_prefix=_gs1_prefix(table),
    )


def _timezone(table: _Table) -> str:
    timezone = table.text("timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder such as "Europe" exists in the tz database but is not a zone.
        raise table.invalid("timezone", timezone, 'is not a time zone name such as "Europe/London"') from None
    return timezone


def _gs1_prefix(table: _Table) -> str:
    value = table.raw("gs1_company_prefix")
    if isinstance(value, int) and not isinstance(value, bool):
        # A bare number would silently drop the leading zeros some GS1 prefixes start with.
        raise table.error("gs1_company_prefix", 'must be a quoted string of digits such as "5060123"')
    prefix = table.text("gs1_company_prefix")
    if not _GS1_PREFIX.fullmatch(prefix):
        raise table.invalid("gs1_company_prefix", prefix, "must be 7 to 10 digits")
    return prefix


def _vendor_codes(root: _Table) -> tuple[VendorCode, ...]:
    entries = root.data.get("vendor_codes", [])
    if not isinstance(entries, list):
        raise root.error("vendor_codes", "must be written as [[vendor_codes]] blocks")
    if not entries:
        raise root.error("vendor_codes", "needs at least one [[vendor_codes]] block")
    vendors: list[VendorCode] = []
    first_use: dict[str, str] = {}
    for index, entry in enumerate(entries):
        table = _Table(root.source, f"vendor_codes[{index}]", entry, VendorCode)
        code = table.text("code")
        if not _VENDOR_CODE.fullmatch(code):
            raise table.invalid("code", code, "must be 5 capital letters or digits, as shown in Vendor Central")
        if code in first_use:
            raise table.invalid("code", code, f"is already used by {first_use[code]}")
        first_use[code] = table.where
        vendors.append(
            VendorCode(
                code=code,
                marketplace=table.choice("marketplace", MARKETPLACES),
                sage_customer_account=table.text("sage_customer_account", max_length=SAGE_CUSTOMER_REFERENCE_MAX),
                edi_standard=table.choice("edi_standard", EDI_STANDARDS),
                currency=table.currency("currency"),
                freight_terms=table.choice("freight_terms", FREIGHT_TERMS, default="prepaid"),
            )
        )
    return tuple(vendors)


def _banks(table: _Table) -> BankSettings:
    banks = BankSettings(
        clearing=table.text("clearing", max_length=SAGE_BANK_CODE_MAX),
        real=table.text("real", max_length=SAGE_BANK_CODE_MAX),
        in_transit=table.optional_text("in_transit", max_length=SAGE_BANK_CODE_MAX),
        use_in_transit=table.boolean("use_in_transit", default=False),
    )
    if banks.use_in_transit and banks.in_transit is None:
        raise table.error("in_transit", "is missing; it is needed because banks.use_in_transit = true")
    # Reconciliation relies on the clearing bank holding only Amazon money in flight; sharing a
    # bank account between roles would mix that with real cash and hide differences.
    roles = {"clearing": banks.clearing, "real": banks.real, "in_transit": banks.in_transit}
    seen: dict[str, str] = {}
    for role, code in roles.items():
        if code is None:
            continue
        if code in seen:
            raise table.invalid(role, code, f"is the same bank as banks.{seen[code]}; each role needs its own")
        seen[code] = role
    return banks


def _nominal(table: _Table) -> NominalSettings:
    return NominalSettings(
        suspense=table.text("suspense", max_length=SAGE_NOMINAL_REFERENCE_MAX),
        deductions_under_dispute=table.optional_text("deductions_under_dispute", max_length=SAGE_NOMINAL_REFERENCE_MAX),
    )


def _tolerances(table: _Table) -> Tolerances:
    return Tolerances(
        price_tolerance_percent=table.decimal("price_tolerance_percent", example="1.0", maximum=Decimal(100)),
        remittance_amount_tolerance=table.decimal("remittance_amount_tolerance", example="0.05"),
    )


def _lead_times(table: _Table) -> LeadTimes:
    return LeadTimes(
        backorder_days=table.integer("backorder_days", minimum=0),
        ack_deadline_hours=table.integer("ack_deadline_hours", minimum=1),
    )


def _approval(table: _Table) -> ApprovalSettings:
    return ApprovalSettings(
        posting_threshold=table.decimal("posting_threshold", example="5000.00"),
        auto_approve=table.boolean("auto_approve", default=False),
    )


def _shipping(table: _Table | None) -> ShippingSettings:
    if table is None:
        return ShippingSettings()
    defaults = ShippingSettings()
    extension = table.integer("sscc_extension_digit", minimum=0, default=defaults.sscc_extension_digit)
    if extension > 9:
        raise table.invalid("sscc_extension_digit", extension, "must be one digit, 0 to 9")
    return ShippingSettings(
        carton_eaches=table.integer("carton_eaches", minimum=1, default=defaults.carton_eaches),
        cartons_per_pallet=table.integer("cartons_per_pallet", minimum=0, default=defaults.cartons_per_pallet),
        sscc_extension_digit=extension,
    )


def _kind(value: object) -> str:
    """Describe a TOML value's type in words a non-programmer recognises."""
    # bool before int: in Python ``True`` is also an int.
    for python_type, words in (
        (bool, "true/false"),
        (str, "text"),
        (int, "a whole number"),
        (float, "a float"),
        (dict, "a table"),
        (list, "a list"),
        ((date, datetime, time), "a date/time"),
    ):
        if isinstance(value, python_type):
            return words
    return type(value).__name__


class _Table:
    """One TOML table being validated; knows its dotted name so every error can name the setting."""

    def __init__(self, source: str, where: str, data: object, schema: type) -> None:
        """Check ``data`` is a table holding only the fields of the dataclass ``schema``."""
        self.source = source
        self.where = where
        if not isinstance(data, dict):
            raise SettingsError(f"{source}: {where} must be a table, not {_kind(data)}")
        self.data: dict[str, Any] = data
        allowed = [field.name for field in fields(schema)]
        for key in data:
            if key not in allowed:
                # Unknown keys are almost always typos of a real setting that then silently
                # falls back to its default, so reject them and suggest the intended name.
                guess = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {guess[0]!r}?" if guess else "known: " + ", ".join(allowed)
                raise self.error(key, f"is not a known setting ({hint})")

    def dotted(self, key: str) -> str:
        """The setting's full name, e.g. ``banks.clearing``."""
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> SettingsError:
        """An error about the setting as a whole: ``file: banks.clearing <problem>``."""
        return SettingsError(f"{self.source}: {self.dotted(key)} {problem}")

    def invalid(self, key: str, value: object, problem: str) -> SettingsError:
        """An error about a setting's value: ``file: banks.clearing: 'X' <problem>``."""
        return SettingsError(f"{self.source}: {self.dotted(key)}: {value!r} {problem}")

    def raw(self, key: str) -> Any:
        """The value of a required setting, whatever its type."""
        if key not in self.data:
            raise self.error(key, "is missing")
        return self.data[key]

    def table(self, key: str, schema: type) -> _Table:
        """A required sub-table, checked against the dataclass ``schema``."""
        if key not in self.data:
            raise self.error(key, f"is missing (add a [{self.dotted(key)}] section)")
        return _Table(self.source, self.dotted(key), self.data[key], schema)

    def text(self, key: str, *, max_length: int | None = None) -> str:
        """A required, non-empty string of at most ``max_length`` characters."""
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, f"must be text in quotes, not {_kind(value)}")
        if not value.strip():
            raise self.error(key, "must not be empty")
        if max_length is not None and len(value) > max_length:
            raise self.invalid(key, value, f"is longer than {max_length} characters, the most Sage 200 allows")
        return value

    def optional_text(self, key: str, *, max_length: int | None = None) -> str | None:
        """Like :meth:`text`, but ``None`` when the setting is left out."""
        return self.text(key, max_length=max_length) if key in self.data else None

    def optional_table(self, key: str, schema: type) -> _Table | None:
        """Like :meth:`table`, but ``None`` when the section is left out (its settings take their defaults)."""
        return self.table(key, schema) if key in self.data else None

    def choice(self, key: str, allowed: frozenset[str], *, default: str | None = None) -> str:
        """A string from a fixed set; required unless a `default` is given."""
        if default is not None and key not in self.data:
            return default
        value = self.text(key)
        if value not in allowed:
            raise self.invalid(key, value, "is not one of " + ", ".join(sorted(allowed)))
        return value

    def currency(self, key: str) -> str:
        """A required ISO 4217 currency code."""
        value = self.text(key)
        if not _CURRENCY.fullmatch(value):
            raise self.invalid(key, value, 'is not a three-letter currency code such as "GBP"')
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        """An optional ``true``/``false`` setting."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false (without quotes), not {_kind(value)}")
        return value

    def integer(self, key: str, *, minimum: int, default: int | None = None) -> int:
        """A whole number of at least ``minimum``; required unless a `default` is given."""
        if default is not None and key not in self.data:
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_kind(value)}")
        if value < minimum:
            raise self.invalid(key, value, f"must be at least {minimum}")
        return value

    def decimal(self, key: str, *, example: str, maximum: Decimal | None = None) -> Decimal:
        """A required non-negative amount written as a quoted decimal string, as a ``Decimal``."""
        value = self.raw(key)
        # Unquoted TOML numbers are rejected too: floats are binary (0.1 + 0.2 != 0.3) and lose
        # pennies in reconciliations, and one rule for all amounts is easier to follow than two.
        if not isinstance(value, str):
            raise self.error(key, f'must be a quoted decimal string such as "{example}", not {_kind(value)}')
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise self.invalid(key, value, f'is not a decimal number such as "{example}"')
        if number < 0:
            raise self.invalid(key, value, "must not be negative")
        if maximum is not None and number > maximum:
            raise self.invalid(key, value, f"must be at most {maximum}")
        return number
