"""Shared fixtures: a small Sage 200 company built once per session, then copied for every test.

`mini_company_db` builds the company through the sandbox's API and back office as a user would, stops the
server (closing SQLite checkpoints the WAL into the main file) and hands back the file. `sandbox` copies
that file into the test's own tmp_path and serves the copy, so every test starts from the same ledger and
none sees another's postings.

Every GET answer a test receives through `SandboxCompany` is held to Sage's OpenAPI response schema.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from pipelines.sage200.client import SageClient, dumps, loads
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import api_url, run_in_thread
from pipelines.sage200.spec import SageSpec, response_validator
from pipelines.scenario.generate import generate
from pipelines.scenario.load import load
from pipelines.scenario.manifest import Manifest

# The longest modules, slowest first. xdist (`--dist loadfile --no-loadscope-reorder`, the Makefile's) hands
# modules out in collection order; collected last, one of these would keep one worker busy for minutes after
# the other ran out of work.
SLOWEST_MODULES = (
    "tests/orders/test_order_to_cash.py",
    "tests/orchestration/test_pipeline.py",
    "tests/orchestration/test_definitions.py",
    "tests/dbt/test_staging.py",
    "tests/dashboard/test_dashboard.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {module: rank for rank, module in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


TOKEN = "sandbox"
TODAY = "2026-03-15"
SEED_ORDER_DATE = "2026-03-10"
D = Decimal

# Sage tax code number → (name, rate).
TAX_CODES = {
    0: ("Exempt", "0.00"),
    1: ("Standard 20%", "20.00"),
    2: ("Zero rated", "0.00"),
    9: ("Outside scope", "0.00"),
}
# reference → (name, report category type)
NOMINAL_CODES = {
    "1100": ("Debtors control", "Asset"),
    "1200": ("Barclays current account", "Asset"),
    "1210": ("Amazon clearing", "Asset"),
    "2200": ("VAT output", "Liability"),
    "2201": ("VAT input", "Liability"),
    "3000": ("Capital", "Liability"),
    "4000": ("Sales", "Income"),
    "4050": ("Amazon shortages", "Expense"),
    "6100": ("Amazon co-op", "Expense"),
    "6300": ("Amazon chargebacks", "Expense"),
    "9999": ("Suspense", "Asset"),
}
CONTROL_ACCOUNTS = {
    "debtors": "1100",
    "vat_output": "2200",
    "vat_input": "2201",
    "suspense": "9999",
    "mispostings": "9999",
}
OPENING_STOCK = D("240")  # in Each, per product
CASE_SIZE = D("12")

# The seeded sales order, despatched and invoiced on SEED_ORDER_DATE: 2 cases of the first product at 60.00
# a case and 5 each of the second at 4.50, all standard rated.
SEED_ORDER_CUSTOMER_DOCUMENT_NO = "PO-AMZ-0001"
SEED_INVOICE_GOODS = D("142.50")
SEED_INVOICE_TAX = D("28.50")
SEED_INVOICE_GROSS = D("171.00")
# What the seeded ledger holds: nominal balances (debit +) and stock left after the despatch, in Each.
SEED_NOMINAL_BALANCES = {"1100": SEED_INVOICE_GROSS, "2200": -SEED_INVOICE_TAX, "4000": -SEED_INVOICE_GOODS}
SEED_STOCK = (OPENING_STOCK - 2 * CASE_SIZE, OPENING_STOCK - 5)


@dataclass(frozen=True)
class SeedIds:
    """Ids of everything `mini_company_db` created."""

    customer: int
    barc01: int
    amzclr: int
    tax_codes: Mapping[int, int]  # Sage tax code number → tax_codes id
    nominal_codes: Mapping[str, int]  # reference → nominal_codes id
    each_unit: int
    case_unit: int
    product_group: int
    products: tuple[int, ...]
    warehouse: int
    holdings: Mapping[int, int]  # product id → warehouse_holdings id
    order: int
    invoice: int  # the seeded order's posted sales invoice (a sales_posted_transactions id)
    invoice_document_no: str


@dataclass(frozen=True)
class MiniCompany:
    db_path: Path
    ids: SeedIds


# --- Sage's response schemas ----------------------------------------------------------------------------


@functools.cache
def spec() -> SageSpec:
    return SageSpec.load()


def _without_required(schema: dict) -> dict:
    """The schema of a $select answer: the same entity, with only some of its (otherwise required) keys."""
    if schema.get("type") == "array":
        return {**schema, "items": _without_required(schema.get("items", {}))}
    return {key: value for key, value in schema.items() if key != "required"}


@functools.cache
def _get_validator(template: str, selected: bool) -> Callable[[object], list[str]]:
    schema = spec().operation("get", template).response_schema
    assert schema is not None, f"Sage's spec declares no response body for GET {template}"
    return response_validator(_without_required(schema) if selected else schema)


def is_sage_get(path: str) -> bool:
    try:
        spec().match("get", "/" + path.strip("/"))
    except KeyError:
        return False
    return True


# Where Sage's files contradict themselves the documented value wins over the schema: sales.json's own
# descriptions name posted transaction types longer than trader_transaction_type's maxLength of 30.
SAGE_DOCUMENTED_TRANSACTION_TYPES = (
    "TradingAccountEntryTypeCreditNote",
    "TradingAccountEntryTypePurchasePaymentSalesReceipt",
    "TradingAccountEntryTypePurchaseReceiptSalesPayment",
)


def _contradicted_by_sage(error: str) -> bool:
    location, _, message = error.partition(": ")
    return location.endswith(".trader_transaction_type") and any(
        message == f"'{name}' is too long" for name in SAGE_DOCUMENTED_TRANSACTION_TYPES
    )


def assert_sage_get_body(path: str, params: Mapping[str, Any] | None, body: object) -> None:
    """A GET answer must match Sage's response schema for its path ($count=true answers a bare integer)."""
    params = params or {}
    if str(params.get("$count", "")).lower() == "true":
        assert isinstance(body, int) and not isinstance(body, bool), f"$count answer {body!r}"
        return
    operation, _ = spec().match("get", "/" + path.strip("/"))
    errors = _get_validator(operation.path, "$select" in params)(body)
    errors = [error for error in errors if not _contradicted_by_sage(error)]
    assert errors == [], f"GET {path} answer breaks Sage's schema for {operation.path}: {errors[:5]}"


class CheckedSageClient(SageClient):
    """The project's client, holding every GET answer to Sage's response schema."""

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        body = super().get(path, params)
        assert_sage_get_body(path, params, body)
        return body


def local_transport() -> httpx.HTTPTransport:
    # The sandbox is plain HTTP: skipping the CA bundle saves ~40 ms per client, i.e. per test.
    return httpx.HTTPTransport(verify=False)


# --- the per-test company -------------------------------------------------------------------------------


@dataclass
class SandboxCompany:
    """A running sandbox serving a private copy of the seeded company, with helpers to read its ledger."""

    root: str
    client: CheckedSageClient
    backoffice: BackOffice
    ids: SeedIds
    http: httpx.Client

    @property
    def api(self) -> str:
        return api_url(self.root)

    def headers(self) -> dict[str, str]:
        return {
            "Accept": "application/json",
            "Authorization": f"Bearer {TOKEN}",
            "X-Site": str(self.client.site_id),
            "X-Company": str(self.client.company_id),
        }

    def new_client(self, **options: Any) -> CheckedSageClient:
        """Another connected client (own connection pool, timeout, retry policy, sleep...)."""
        return CheckedSageClient(
            self.api,
            TOKEN,
            site_id=self.client.site_id,
            company_id=self.client.company_id,
            transport=local_transport(),
            **options,
        )

    def raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        query: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: object = None,
        content: bytes | str | None = None,
    ) -> httpx.Response:
        """One request over plain httpx (no retries) with Sage's headers; override them, or drop one with "".

        `query` is sent as the query string as it is, for requests no well-behaved client would make.
        A 200 answer to a GET is held to Sage's response schema, as the client's are.
        """
        merged = {key: value for key, value in {**self.headers(), **(headers or {})}.items() if value}
        if body is not None:
            content = dumps(body)
        if content is not None:
            merged.setdefault("Content-Type", "application/json")
        url = self.api + path + (f"?{query}" if query is not None else "")
        response = self.http.request(method, url, params=params, headers=merged, content=content)
        if method == "GET" and response.status_code == 200 and is_sage_get(path):
            sent = params if query is None else dict(parse_qsl(query, keep_blank_values=True))
            assert_sage_get_body(path, sent, loads(response.content))
        return response

    # reads -------------------------------------------------------------------------------------------
    def one(self, resource: str, filter_: str) -> dict[str, Any]:
        rows = self.client.get(resource, {"$filter": filter_})
        assert len(rows) == 1, f"{resource} {filter_}: {rows}"
        return rows[0]

    def nominal_codes(self) -> dict[str, dict[str, Any]]:
        return {code["reference"]: code for code in self.client.get_all("nominal_codes")}

    def nominal_balances(self) -> dict[str, Decimal]:
        """balance_year_to_date of every nominal code, by reference (debit +, credit −)."""
        return {ref: Decimal(code["balance_year_to_date"]) for ref, code in self.nominal_codes().items()}

    def customer_balance(self, customer_id: int | None = None) -> Decimal:
        return Decimal(self.client.get(f"customers/{customer_id or self.ids.customer}")["balance"])

    def bank_balances(self) -> dict[str, Decimal]:
        return {bank["code"]: Decimal(bank["balance"]) for bank in self.client.get("banks")}

    def posted(self, posted_id: int) -> dict[str, Any]:
        return self.client.get(f"sales_posted_transactions/{posted_id}")

    def posted_by_reference(self, reference: str) -> dict[str, Any]:
        return self.one("sales_posted_transactions", f"reference eq '{reference}'")

    def holding(self, product_id: int) -> dict[str, Any]:
        return self.client.get(f"warehouse_holdings/{self.ids.holdings[product_id]}")

    def assert_ledger_sound(self) -> None:
        """The trial balance over GET /nominal_codes balances, each code's balance is its debits − credits,
        each customer's balance is the sum of its outstanding values, debtors control is the customers'
        balances, each bank's balance is its nominal account's, and the back office's trial balance agrees."""
        codes = self.nominal_codes()
        debits = sum((Decimal(code["debit_balance_year_to_date"]) for code in codes.values()), Decimal(0))
        credits = sum((Decimal(code["credit_balance_year_to_date"]) for code in codes.values()), Decimal(0))
        assert debits == credits, f"trial balance out: debits {debits} ≠ credits {credits}"
        for ref, code in codes.items():
            net = Decimal(code["debit_balance_year_to_date"]) - Decimal(code["credit_balance_year_to_date"])
            assert Decimal(code["balance_year_to_date"]) == net, ref
        trial_balance = self.backoffice.get("trial_balance")
        assert (Decimal(trial_balance["total_debit"]), Decimal(trial_balance["total_credit"])) == (debits, credits)
        customers_total = Decimal(0)
        for customer in self.client.get_all("customers"):
            transactions = self.client.get_all(f"customers/{customer['id']}/sales_posted_transactions")
            outstanding = sum((Decimal(t["document_outstanding_value"]) for t in transactions), Decimal(0))
            assert Decimal(customer["balance"]) == outstanding, customer["reference"]
            customers_total += Decimal(customer["balance"])
        assert customers_total == Decimal(codes["1100"]["balance_year_to_date"]), "debtors control"
        for bank in self.client.get("banks"):
            nominal = codes[bank["bank_account_nominal_reference"]]
            assert Decimal(bank["balance"]) == Decimal(nominal["balance_year_to_date"]), bank["code"]

    # postings ----------------------------------------------------------------------------------------
    def invoice_body(
        self,
        reference: str,
        goods: Decimal,
        tax: Decimal,
        *,
        customer_id: int | None = None,
        nominal: str = "4000",
        tax_code: int = 1,
        date: str = "2026-03-10T00:00:00Z",
    ) -> dict[str, Any]:
        """A one-line sales invoice or credit note body."""
        return {
            "customer_id": customer_id or self.ids.customer,
            "transaction_date": date,
            "reference": reference,
            "document_goods_value": goods,
            "document_tax_value": tax,
            "nominal_analysis_items": [{"code": nominal, "value": goods}],
            "tax_analysis_items": [{"id": self.ids.tax_codes[tax_code], "goods_amount": goods, "tax_amount": tax}],
        }

    def post_invoice(
        self, reference: str, goods: Decimal, tax: Decimal, *, endpoint: str = "sales_invoices", **options: Any
    ) -> dict[str, Any]:
        """Post a one-line invoice (or credit note, with endpoint="sales_credit_notes"); its posted transaction."""
        self.client.post(endpoint, self.invoice_body(reference, goods, tax, **options))
        return self.posted_by_reference(reference)

    def receipt_body(
        self,
        reference: str,
        value: Decimal,
        *,
        customer_id: int | None = None,
        bank_id: int | None = None,
        date: str = "2026-03-12T00:00:00Z",
    ) -> dict[str, Any]:
        return {
            "customer_id": customer_id or self.ids.customer,
            "bank_id": bank_id or self.ids.amzclr,
            "cheque_value": value,
            "transaction_date": date,
            "reference": reference,
        }

    def post_receipt(self, reference: str, value: Decimal, **options: Any) -> dict[str, Any]:
        self.client.post("sales_receipts", self.receipt_body(reference, value, **options))
        return self.posted_by_reference(reference)

    def allocation_body(self, *lines: tuple[int, Decimal], customer_id: int | None = None) -> dict[str, Any]:
        return {
            "customer_id": customer_id or self.ids.customer,
            "allocation_lines": [{"posted_tran_id": tran, "value_to_allocate": value} for tran, value in lines],
        }

    def allocate(self, *lines: tuple[int, Decimal], customer_id: int | None = None) -> dict[str, Any]:
        return self.client.post("sales_allocations", self.allocation_body(*lines, customer_id=customer_id))

    def new_customer(self, reference: str, name: str = "Another customer") -> int:
        return self.client.post("customers", {"reference": reference, "name": name})["id"]

    def new_order(self, *lines: dict[str, Any], customer_document_no: str = "PO-TEST") -> dict[str, Any]:
        """A sales order as POST /sop_orders answers it."""
        body = {
            "customer_id": self.ids.customer,
            "document_no": "",
            "customer_document_no": customer_document_no,
            "lines": list(lines),
        }
        return self.client.post("sop_orders", body)

    def order_line(self, product: int, quantity: Decimal, price: Decimal, *, case: bool = False) -> dict[str, Any]:
        unit = self.ids.case_unit if case else self.ids.each_unit
        return order_line(self.ids.products[product], self.ids.warehouse, quantity, price, unit_id=unit)


# --- building the company -------------------------------------------------------------------------------


def order_line(product_id: int, warehouse_id: int, quantity: Decimal, price: Decimal, *, unit_id: int) -> dict:
    """A standard sales order line as POST /sop_orders takes it."""
    return {
        "line_type": "EnumLineTypeStandard",
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "code": f"P{product_id}",
        "description": f"Product {product_id}",
        "line_quantity": quantity,
        "selling_unit_id": unit_id,
        "selling_unit_price": price,
    }


def build_mini_company(db_path: Path) -> SeedIds:
    """Set the company up through the API and the back office, as its users would."""
    with run_in_thread(db_path) as root, BackOffice(root) as office:
        client = CheckedSageClient(api_url(root), TOKEN, transport=local_transport()).connect()
        office.post("clock", {"today": TODAY})
        office.post("financial_years", {"start_date": "2026-01-01", "number_of_periods": 12})
        tax_codes = {
            code: office.post("tax_codes", {"code": code, "name": name, "tax_rate": rate})["id"]
            for code, (name, rate) in TAX_CODES.items()
        }
        report_categories = {
            category: office.post(
                "nominal_report_categories", {"code": category.upper()[:8], "category_type": category}
            )["id"]
            for category in sorted({category for _, category in NOMINAL_CODES.values()})
        }
        nominal_codes = {
            reference: client.post(
                "nominal_codes",
                {"reference": reference, "name": name, "report_category_id": report_categories[category]},
            )["id"]
            for reference, (name, category) in NOMINAL_CODES.items()
        }
        office.post("control_accounts", CONTROL_ACCOUNTS)
        banks = {
            code: client.post(
                "banks",
                {
                    "code": code,
                    "sort_code": sort_code,
                    "description": description,
                    "bank_account_nominal_reference": nominal,
                },
            )["id"]
            for code, sort_code, description, nominal in (
                ("BARC01", "20-00-00", "Barclays current", "1200"),
                ("AMZCLR", "00-00-00", "Amazon clearing", "1210"),
            )
        }
        customer = client.post(
            "customers", {"reference": "AMA001", "name": "Amazon EU SARL (UK)", "default_tax_code_id": tax_codes[1]}
        )["id"]
        each_unit = office.post("units", {"name": "Each"})["id"]
        case_unit = office.post("units", {"name": "Case of 12", "multiple_of_base_unit": CASE_SIZE})["id"]
        product_group = office.post("product_groups", {"code": "AMZ", "description": "Amazon lines"})["id"]
        products = tuple(
            client.post(
                "products",
                {
                    "code": code,
                    "name": name,
                    "product_group_id": product_group,
                    "tax_code_id": tax_codes[1],
                    "base_unit_id": each_unit,
                    "units": [{"unit_id": case_unit, "multiple_of_base_unit": CASE_SIZE}],
                    "revenue_nominal_code_id": nominal_codes["4000"],
                },
            )["id"]
            for code, name in (("B0ASIN0001", "Widget"), ("B0ASIN0002", "Gadget"))
        )
        warehouse = client.post("warehouses", {"name": "MAIN", "description": "Main warehouse"})["id"]
        holdings = {}
        for product in products:
            holdings[product] = client.post("warehouse_holdings", {"product_id": product, "warehouse_id": warehouse})[
                "id"
            ]
            office.post(
                "stock_adjustments", {"product_id": product, "warehouse_id": warehouse, "quantity": OPENING_STOCK}
            )
        order = client.post(
            "sop_orders",
            {
                "customer_id": customer,
                "document_no": "",
                "customer_document_no": SEED_ORDER_CUSTOMER_DOCUMENT_NO,
                "document_date": f"{SEED_ORDER_DATE}T00:00:00Z",
                "lines": [
                    order_line(products[0], warehouse, D("2"), D("60.00"), unit_id=case_unit),
                    order_line(products[1], warehouse, D("5"), D("4.50"), unit_id=each_unit),
                ],
            },
        )["id"]
        office.post(f"sop_orders/{order}/despatch", {"date": SEED_ORDER_DATE})
        invoiced = office.post(f"sop_orders/{order}/invoice", {"date": SEED_ORDER_DATE})
        client.close()
    return SeedIds(
        customer=customer,
        barc01=banks["BARC01"],
        amzclr=banks["AMZCLR"],
        tax_codes=tax_codes,
        nominal_codes=nominal_codes,
        each_unit=each_unit,
        case_unit=case_unit,
        product_group=product_group,
        products=products,
        warehouse=warehouse,
        holdings=holdings,
        order=order,
        invoice=invoiced["posted_transaction_id"],
        invoice_document_no=invoiced["invoice_document_no"],
    )


def copy_database(source: Path, folder: Path) -> Path:
    """Copy a SQLite file and whatever -wal/-shm companions it has (none once its server has stopped)."""
    target = folder / source.name
    for suffix in ("", "-wal", "-shm"):
        companion = source.with_name(source.name + suffix)
        if companion.exists():
            shutil.copyfile(companion, target.with_name(target.name + suffix))
    return target


@pytest.fixture(scope="session")
def mini_company_db(tmp_path_factory: pytest.TempPathFactory) -> MiniCompany:
    """The seeded company's SQLite file, built once per session (per xdist worker)."""
    db_path = tmp_path_factory.mktemp("mini_company") / "company.sqlite3"
    ids = build_mini_company(db_path)  # its server has stopped: the file is checkpointed and closed
    return MiniCompany(db_path, ids)


@pytest.fixture
def sandbox(mini_company_db: MiniCompany, tmp_path: Path) -> Iterator[SandboxCompany]:
    """A sandbox serving a private copy of the seeded company."""
    db_path = copy_database(mini_company_db.db_path, tmp_path)
    with (
        run_in_thread(db_path) as root,
        BackOffice(root) as office,
        CheckedSageClient(api_url(root), TOKEN, transport=local_transport()) as client,
        httpx.Client(verify=False, timeout=httpx.Timeout(30.0)) as http,
    ):
        client.connect()
        yield SandboxCompany(root, client, office, mini_company_db.ids, http)


@dataclass(frozen=True)
class SampleSandbox:
    """The sample vendor (small scale) loaded into a sandbox serving a private copy."""

    root: str
    api_url: str
    manifest: Manifest
    sample: Path  # the generated sample's folder (sage/, inbox/, manifest.json)


@pytest.fixture(scope="session")
def sample_vendor_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest, Path]:
    """The small sample vendor generated and loaded through the API once per session (per xdist worker)."""
    work = tmp_path_factory.mktemp("sample_vendor")
    manifest = generate(seed=7, as_of=date.fromisoformat(TODAY), scale="small", out=work / "sample")
    db_path = work / "sandbox.sqlite3"
    with (
        run_in_thread(db_path) as root,
        SageClient(api_url(root), TOKEN).connect() as client,
        BackOffice(root) as office,
    ):
        load(work / "sample", client, office)
    return db_path, manifest, work / "sample"


@pytest.fixture
def sample_sandbox(sample_vendor_db: tuple[Path, Manifest, Path], tmp_path: Path) -> Iterator[SampleSandbox]:
    db_path, manifest, sample = sample_vendor_db
    with run_in_thread(copy_database(db_path, tmp_path)) as root:
        yield SampleSandbox(root, api_url(root), manifest, sample)
