"""The sandbox's price book: price bands and product prices set through the back office, read through Sage's
read-only `price_bands` and `product_price_views`, and each customer's `price_band`.

Every GET body these tests receive is also held to Sage's response schema (see tests/conftest.py).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from pipelines.sage200.client import dumps

if TYPE_CHECKING:
    from conftest import SandboxCompany

D = Decimal


def back_office(sandbox: SandboxCompany, path: str, body: dict[str, Any], *, status: int) -> str:
    """POST to the back office expecting a refusal; the message it gave."""
    response = sandbox.http.post(
        f"{sandbox.root}backoffice/{path}", content=dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    return response.json()["message"]


def prices(sandbox: SandboxCompany, **equals: int) -> list[dict[str, Any]]:
    """product_price_views rows matching the given fields, in product_price_id order."""
    filter_ = " and ".join(f"{name} eq {value}" for name, value in equals.items())
    params = {"$orderby": "product_price_id"} | ({"$filter": filter_} if filter_ else {})
    return sandbox.client.get("product_price_views", params)


def price_of(sandbox: SandboxCompany, product_id: int, band_id: int) -> dict[str, Any]:
    [row] = prices(sandbox, product_id=product_id, price_band_id=band_id)
    return row


@pytest.fixture
def bands(sandbox: SandboxCompany) -> tuple[dict[str, Any], dict[str, Any]]:
    """The standard band and an Amazon band, in that order."""
    standard = sandbox.backoffice.create_price_band("Standard", "Standard selling prices", is_standard_band=True)
    amazon = sandbox.backoffice.create_price_band("Amazon", "Amazon vendor cost prices")
    return standard, amazon


# --- price bands ----------------------------------------------------------------------------------------


def test_a_price_band_reads_back_as_the_back_office_created_it(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, amazon = bands
    assert amazon | {"date_time_created": None, "date_time_updated": None} == {
        "id": amazon["id"],
        "name": "Amazon",
        "description": "Amazon vendor cost prices",
        "is_standard_band": False,
        "currency_id": 1,  # the company's base currency, as every customer's
        "price_band_type_id": 0,
        "price_band_type": "Universal",
        "is_active": True,
        "is_time_based": False,
        "date_time_created": None,
        "date_time_updated": None,
    }
    assert sandbox.client.get(f"price_bands/{amazon['id']}") == amazon
    assert sandbox.client.get("price_bands", {"$orderby": "id"}) == [standard, amazon]
    assert sandbox.client.get("price_bands", {"$filter": "is_standard_band eq true"}) == [standard]
    assert sandbox.client.get("price_bands", {"$select": "id,name", "$orderby": "name"}) == [
        {"id": amazon["id"], "name": "Amazon"},
        {"id": standard["id"], "name": "Standard"},
    ]
    assert sandbox.raw("GET", "price_bands/999").status_code == 404


def test_a_company_has_one_standard_band_and_unique_band_names(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    assert "already the standard band" in back_office(
        sandbox, "price_bands", {"name": "Other", "is_standard_band": True}, status=400
    )
    assert "already exists" in back_office(sandbox, "price_bands", {"name": "Amazon"}, status=400)
    assert "'name'" in back_office(sandbox, "price_bands", {"name": "A" * 21}, status=400)
    assert "'name'" in back_office(sandbox, "price_bands", {"description": "no name"}, status=400)
    assert "'description'" in back_office(sandbox, "price_bands", {"name": "Long", "description": "d" * 51}, status=400)
    assert "'is_standard_band'" in back_office(
        sandbox, "price_bands", {"name": "Odd", "is_standard_band": "yes"}, status=400
    )
    assert len(sandbox.client.get("price_bands")) == 2


def test_the_api_cannot_write_the_price_book(sandbox: SandboxCompany) -> None:
    # Sage's API has GET only for these paths: the back office is the sandbox's only way in.
    assert sandbox.raw("POST", "price_bands", body={"name": "API"}).status_code == 405
    assert sandbox.raw("POST", "product_price_views", body={}).status_code == 405


# --- customers' price bands -------------------------------------------------------------------------------


def test_the_standard_band_becomes_the_band_of_every_customer_without_one(sandbox: SandboxCompany) -> None:
    before = sandbox.client.get(f"customers/{sandbox.ids.customer}")
    assert "price_band_id" not in before and "price_band" not in before  # no price book yet
    time.sleep(1.05)  # the stamps have whole seconds
    standard = sandbox.backoffice.create_price_band("Standard", is_standard_band=True)

    customer = sandbox.client.get(f"customers/{sandbox.ids.customer}")
    assert customer["price_band_id"] == standard["id"]
    assert customer["price_band"] == {
        "id": standard["id"],
        "name": "Standard",
        "description": "",
        "is_standard_band": True,
    }
    # The answer changed, so an incremental reader must see the customer again.
    assert customer["date_time_updated"] > before["date_time_updated"]
    # A new account gets the standard band too, as Sage gives it.
    created = sandbox.client.post("customers", {"reference": "NEW001", "name": "New customer"})
    assert created["price_band_id"] == standard["id"]


def test_a_customer_is_linked_to_another_band(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, amazon = bands
    linked = sandbox.backoffice.set_customer_price_band(sandbox.ids.customer, amazon["id"])
    assert linked["price_band_id"] == amazon["id"]
    assert linked["price_band"]["name"] == "Amazon"
    assert sandbox.client.get(f"customers/{sandbox.ids.customer}") == linked
    found = sandbox.client.get("customers", {"$filter": f"price_band_id eq {amazon['id']}"})
    assert [customer["reference"] for customer in found] == ["AMA001"]

    assert "does not exist" in back_office(
        sandbox, "customers/999/price_band", {"price_band_id": amazon["id"]}, status=404
    )
    assert "price_band_id" in back_office(
        sandbox, f"customers/{sandbox.ids.customer}/price_band", {"price_band_id": 999}, status=400
    )


def test_a_new_customer_may_name_its_band_and_a_missing_band_is_refused(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, amazon = bands
    created = sandbox.client.post(
        "customers", {"reference": "AMA002", "name": "Amazon DE", "price_band_id": amazon["id"]}
    )
    assert (created["price_band_id"], created["price_band"]["id"]) == (amazon["id"], amazon["id"])
    response = sandbox.raw("POST", "customers", body={"reference": "BAD", "name": "Bad", "price_band_id": 999})
    assert response.status_code == 400
    assert "price_band_id" in response.json()["message"]


# --- product prices ---------------------------------------------------------------------------------------


def test_every_product_is_priced_in_every_band(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, amazon = bands
    rows = prices(sandbox)
    assert {(row["product_id"], row["price_band_id"]) for row in rows} == {
        (product, band["id"]) for product in sandbox.ids.products for band in bands
    }
    widget = price_of(sandbox, sandbox.ids.products[0], amazon["id"])
    assert widget | {"product_price_id": None, "date_time_updated": None} == {
        "product_price_id": None,
        "product_id": sandbox.ids.products[0],
        "product_code": "B0ASIN0001",
        "product_name": "Widget",
        "product_stock_unit_name": "Each",
        "price_band_id": amazon["id"],
        "price_band_name": "Amazon",
        # No price of its own in the band: linked to the standard price, which is 0 until it is set.
        "product_price_use_standard": True,
        "product_price_price": D("0"),
        "currency_id": 1,
        "currency_name": "Pound Sterling",
        "currency_symbol": "£",
        "date_time_updated": None,
    }
    assert price_of(sandbox, sandbox.ids.products[0], standard["id"])["product_price_use_standard"] is False


def test_a_band_price_linked_to_the_standard_follows_it_without_moving_its_stamp(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, amazon = bands
    widget, gadget = sandbox.ids.products
    linked_before = price_of(sandbox, widget, amazon["id"])
    time.sleep(1.05)

    set_standard = sandbox.backoffice.set_product_price(widget, standard["id"], D("60.00"))
    assert set_standard == price_of(sandbox, widget, standard["id"])
    assert set_standard["product_price_price"] == D("60.00")
    assert set_standard["date_time_updated"] > linked_before["date_time_updated"]

    linked = price_of(sandbox, widget, amazon["id"])
    assert (linked["product_price_use_standard"], linked["product_price_price"]) == (True, D("60.00"))
    # The linked row's own record did not change: its stamp stays (so a reader cannot rely on it).
    assert linked["date_time_updated"] == linked_before["date_time_updated"]
    assert price_of(sandbox, gadget, amazon["id"])["product_price_price"] == D("0")


def test_a_band_price_of_its_own_replaces_the_last_and_moves_the_stamp(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, amazon = bands
    widget = sandbox.ids.products[0]
    sandbox.backoffice.set_product_price(widget, standard["id"], D("60.00"))
    first = sandbox.backoffice.set_product_price(widget, amazon["id"], "48.5")
    assert (first["product_price_use_standard"], first["product_price_price"]) == (False, D("48.50"))
    time.sleep(1.05)

    second = sandbox.backoffice.set_product_price(widget, amazon["id"], D("47.12345"))
    assert second["product_price_id"] == first["product_price_id"]  # one price per product and band
    assert second["product_price_price"] == D("47.12345")  # Sage's selling prices keep 5 decimal places
    assert second["date_time_updated"] > first["date_time_updated"]
    assert len(prices(sandbox, product_id=widget)) == 2

    # A price of its own no longer follows the standard price.
    sandbox.backoffice.set_product_price(widget, standard["id"], D("70.00"))
    assert price_of(sandbox, widget, amazon["id"])["product_price_price"] == D("47.12345")


def test_prices_are_per_the_products_stock_unit(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, _ = bands
    cased = sandbox.client.post(
        "products",
        {
            "code": "B0ASIN0003",
            "name": "Boxed widget",
            "product_group_id": sandbox.ids.product_group,
            "base_unit_id": sandbox.ids.each_unit,
            "stock_unit_id": sandbox.ids.case_unit,
            "units": [{"unit_id": sandbox.ids.case_unit, "multiple_of_base_unit": D("12")}],
        },
    )["id"]
    # A product created after the bands is priced in each of them at once.
    rows = prices(sandbox, product_id=cased)
    assert [(row["price_band_name"], row["product_stock_unit_name"]) for row in rows] == [
        ("Standard", "Case of 12"),
        ("Amazon", "Case of 12"),
    ]
    assert sandbox.backoffice.set_product_price(cased, standard["id"], D("54.00"))["product_stock_unit_name"] == (
        "Case of 12"
    )


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("1.123456", "at most 5 decimal places"),
        (D("-1.00"), "at least 0"),
        ("twelve", "decimal string"),
        ("NaN", "at least 0"),
        (True, "decimal string"),
        (None, "is required"),
    ],
)
def test_a_price_sage_could_not_hold_is_refused(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]], price: object, message: str
) -> None:
    _, amazon = bands
    body = {"product_id": sandbox.ids.products[0], "price_band_id": amazon["id"], "price": price}
    assert message in back_office(sandbox, "product_prices", body, status=400)


def test_a_price_needs_a_real_product_and_band(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, amazon = bands
    assert "product_id" in back_office(
        sandbox, "product_prices", {"product_id": 999, "price_band_id": amazon["id"], "price": "1"}, status=400
    )
    assert "price_band_id" in back_office(
        sandbox,
        "product_prices",
        {"product_id": sandbox.ids.products[0], "price_band_id": 999, "price": "1"},
        status=400,
    )


def test_product_price_views_answer_odata(
    sandbox: SandboxCompany, bands: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    standard, amazon = bands
    widget, gadget = sandbox.ids.products
    sandbox.backoffice.set_product_price(widget, standard["id"], D("60.00"))
    sandbox.backoffice.set_product_price(gadget, standard["id"], D("4.50"))
    sandbox.backoffice.set_product_price(gadget, amazon["id"], D("3.99"))
    client = sandbox.client

    amazon_prices = client.get(
        "product_price_views",
        {
            "$filter": "price_band_name eq 'Amazon'",
            "$orderby": "product_code desc",
            "$select": "product_code,product_price_price,product_price_use_standard",
        },
    )
    assert amazon_prices == [
        {"product_code": "B0ASIN0002", "product_price_price": D("3.99"), "product_price_use_standard": False},
        {"product_code": "B0ASIN0001", "product_price_price": D("60.00"), "product_price_use_standard": True},
    ]
    assert client.get("product_price_views", {"$filter": "product_price_price gt 10", "$count": "true"}) == 2
    page = client.get("product_price_views", {"$orderby": "product_price_id", "$top": "1", "$skip": "1"})
    assert page == [prices(sandbox)[1]]
    assert sandbox.raw("GET", "product_price_views", params={"$filter": "price eq 1"}).status_code == 400
