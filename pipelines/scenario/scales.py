"""How big the sample vendor is. Named scales live in a registry; tests and benchmarks may pass their own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """The size of one generated vendor.

    `amazon_orders` and `trade_orders` are totals over the history; lines per order are means (each order
    draws its own, capped by the number of active products). Amazon pays `amazon_payment_terms_days` after
    the invoice date: a history shorter than the terms would hold no payment at all, so short scales shorten them.
    """

    name: str
    products: int
    history_days: int
    amazon_orders: int
    amazon_lines_per_order: int
    trade_orders: int
    trade_lines_per_order: int
    amazon_payment_terms_days: int = 60

    def __post_init__(self) -> None:
        if self.products < 10:
            raise ValueError("a scale needs at least 10 products (every product group must be represented)")
        if self.history_days < 1:
            raise ValueError("a scale needs at least one day of history")


SCALES: dict[str, Scale] = {
    # A couple of months of a small vendor: quick to load into the sandbox, enough for every flow.
    "small": Scale(
        name="small",
        products=40,
        history_days=60,
        amazon_orders=90,
        amazon_lines_per_order=6,
        trade_orders=12,
        trade_lines_per_order=4,
        amazon_payment_terms_days=30,
    ),
    # A year of a big vendor: ~6,000 Amazon POs, ~250,000 order lines, for benchmarks.
    "large": Scale(
        name="large",
        products=400,
        history_days=365,
        amazon_orders=6000,
        amazon_lines_per_order=42,
        trade_orders=600,
        trade_lines_per_order=8,
    ),
}


def resolve_scale(scale: str | Scale) -> Scale:
    """A registered scale by name, or the given Scale itself."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; known scales: {', '.join(sorted(SCALES))}") from None
