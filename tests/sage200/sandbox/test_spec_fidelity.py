"""The sandbox and our own client held to Sage's OpenAPI files.

The sample vendor is loaded through a recording transport, so every request our code sends is checked
against the request schema of the operation it calls; then every resource the sandbox implements is
walked (lists and single entities) and every answer is checked against the response schema. The price
book (which only the back office can fill) is set up when the sample loader has not done it.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pipelines.sage200.client import SageClient
from pipelines.sage200.sandbox import resources
from pipelines.sage200.sandbox.backoffice import BackOffice
from pipelines.sage200.sandbox.server import API_PREFIX, api_url, run_in_thread
from pipelines.sage200.spec import SageSpec, response_validator, validate_request
from pipelines.scenario.generate import generate
from pipelines.scenario.load import load

AS_OF = date(2026, 3, 15)


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to the real HTTP transport and keeps a copy of each one."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[tuple[str, str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, request.read()))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def set_up_price_book(client: SageClient, office: BackOffice) -> None:
    """Standard prices for every product, an Amazon band with its own price for half of them, and the
    Amazon account linked to it; nothing when the company already has price bands."""
    if client.get("price_bands"):
        return
    standard = office.create_price_band("Standard", "Standard selling prices", is_standard_band=True)
    amazon = office.create_price_band("Amazon", "Amazon vendor cost prices")
    for n, product in enumerate(client.get("products", {"$orderby": "id", "$top": 5000})):
        office.set_product_price(product["id"], standard["id"], Decimal("12.50"))
        if n % 2:
            office.set_product_price(product["id"], amazon["id"], Decimal("9.87654"))
    customer = client.get("customers", {"$filter": "reference eq 'AMA001'"})[0]
    office.set_customer_price_band(customer["id"], amazon["id"])


@pytest.fixture(scope="module")
def loaded_sample(tmp_path_factory: pytest.TempPathFactory):
    work: Path = tmp_path_factory.mktemp("fidelity")
    generate(seed=11, as_of=AS_OF, scale="small", out=work / "sample")
    transport = RecordingTransport()
    with run_in_thread(work / "sandbox.sqlite3") as root:
        client = SageClient(api_url(root), "sandbox", transport=transport).connect()
        with BackOffice(root) as office:
            load(work / "sample", client, office)
            set_up_price_book(client, office)
        yield client, transport.requests
        client.close()


def test_every_request_our_loader_sends_matches_sages_request_schema(loaded_sample) -> None:
    spec = SageSpec.load()
    _, sent = loaded_sample
    posts = [(path, body) for method, path, body in sent if method == "POST"]
    assert len(posts) > 250, "the sample load should exercise many POSTs"
    posted_paths = set()
    for path, body in posts:
        operation, _ = spec.match("post", path.removeprefix(API_PREFIX))
        posted_paths.add(operation.path)
        validate_request(operation.request_schema, json.loads(body, parse_float=Decimal))
    assert {"/customers", "/products", "/sop_orders", "/nominal_codes", "/banks", "/bank_receipt"} <= posted_paths


def test_the_price_book_is_among_the_resources_walked() -> None:
    assert {"/price_bands", "/product_price_views"} <= set(resources.LISTS)
    assert "/price_bands/{Id}" in resources.ITEMS


def test_customers_answer_their_price_band(loaded_sample) -> None:
    client, _ = loaded_sample
    bands = {band["id"]: band for band in client.get("price_bands")}
    customers = client.get("customers", {"$top": 5000})
    assert customers
    for customer in customers:
        band = bands[customer["price_band_id"]]
        assert customer["price_band"]["id"] == band["id"]
        assert customer["price_band"]["name"] == band["name"]


def test_every_list_resource_answers_with_sages_response_schema(loaded_sample) -> None:
    spec = SageSpec.load()
    client, _ = loaded_sample
    for template, (_, scope) in resources.LISTS.items():
        if scope:
            continue  # the nested paths are walked below with a real parent id
        operation = spec.operation("get", template)
        rows = client.get(template.lstrip("/"), {"$top": 5000, "$expand": "lines,units,warehouse_holdings"})
        assert isinstance(rows, list), template
        assert rows, f"the sample should give {template} at least one row"
        errors = response_validator(operation.response_schema)(rows)
        assert not errors, f"{template}: {errors[:5]}"


def test_every_entity_read_by_id_answers_with_sages_response_schema(loaded_sample) -> None:
    spec = SageSpec.load()
    client, _ = loaded_sample
    for template, resource in resources.ITEMS.items():
        first = client.get(resource, {"$top": 1, "$orderby": "id"})[0]
        entity = client.get(f"{resource}/{first['id']}", {"$expand": "lines,units,warehouse_holdings"})
        errors = response_validator(spec.operation("get", template).response_schema)(entity)
        assert not errors, f"{template}: {errors[:5]}"
        assert entity["id"] == first["id"]


def test_nested_resources_answer_with_sages_response_schema(loaded_sample) -> None:
    spec = SageSpec.load()
    client, _ = loaded_sample
    customer = client.get("customers", {"$filter": "reference eq 'AMA001'"})[0]
    order = client.get("sop_orders", {"$top": 1, "$orderby": "id"})[0]
    product = client.get("products", {"$top": 1, "$orderby": "id"})[0]
    warehouse = client.get("warehouses", {"$top": 1, "$orderby": "id"})[0]
    bank = client.get("banks", {"$filter": "code eq 'BARC01'"})[0]
    walks = {
        "/customers/{customerId}/sop_orders": f"customers/{customer['id']}/sop_orders",
        "/customers/{customerId}/sales_posted_transactions": f"customers/{customer['id']}/sales_posted_transactions",
        "/sop_orders/{sopOrderId}/sop_order_lines": f"sop_orders/{order['id']}/sop_order_lines",
        "/products/{productId}/warehouse_holdings": f"products/{product['id']}/warehouse_holdings",
        "/warehouses/{warehouseId}/warehouse_holdings": f"warehouses/{warehouse['id']}/warehouse_holdings",
        "/banks/{bankId}/bank_posted_transactions": f"banks/{bank['id']}/bank_posted_transactions",
    }
    assert set(walks) == {template for template, (_, scope) in resources.LISTS.items() if scope} | {
        "/sop_orders/{sopOrderId}/sop_order_lines"
    }
    for template, path in walks.items():
        rows = client.get(path)
        assert rows, path
        errors = response_validator(spec.operation("get", template).response_schema)(rows)
        assert not errors, f"{template}: {errors[:5]}"
    line = client.get(walks["/sop_orders/{sopOrderId}/sop_order_lines"])[0]
    single = client.get(f"sop_orders/{order['id']}/sop_order_lines/{line['id']}")
    assert single == line
    assert not response_validator(
        spec.operation("get", "/sop_orders/{sopOrderId}/sop_order_lines/{Id}").response_schema
    )(single)


def test_posting_answers_match_sages_response_schemas(loaded_sample) -> None:
    """Writes answer with Sage's shapes too: a URN for documents, the entity for masters."""
    spec = SageSpec.load()
    client, _ = loaded_sample
    customer = client.get("customers", {"$filter": "reference eq 'AMA001'"})[0]
    clearing = client.get("banks", {"$filter": "code eq 'AMZCLR'"})[0]
    real = client.get("banks", {"$filter": "code eq 'BARC01'"})[0]
    answers = {
        "/sales_receipts": client.post(
            "sales_receipts",
            {
                "customer_id": customer["id"],
                "bank_id": clearing["id"],
                "cheque_value": Decimal("10.00"),
                "transaction_date": "2026-03-14T00:00:00Z",
                "reference": "FIDELITY-1",
            },
        ),
        "/bank_transfer": client.post(
            "bank_transfer",
            {
                "bank_from_id": clearing["id"],
                "bank_to_id": real["id"],
                "payment_value": Decimal("10.00"),
                "transaction_date": "2026-03-14T00:00:00Z",
                "reference": "FIDELITY-1",
            },
        ),
        "/transaction_date_validation": client.post(
            "transaction_date_validation", {"date": "2026-03-14T00:00:00Z", "ledger_type": "SalesLedger"}
        ),
    }
    for template, answer in answers.items():
        errors = response_validator(spec.operation("post", template).response_schema)(answer)
        assert not errors, f"{template}: {errors}"
    assert set(answers["/sales_receipts"]) == {"urn"}
