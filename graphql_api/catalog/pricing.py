"""Price arithmetic, written once: the catalog shows it, carts and checkout charge it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def sale_price(price: Decimal, discount_percent: int) -> Decimal:
    """The price after `discount_percent`, rounded half up to the cent."""
    factor = Decimal(100 - discount_percent) / 100
    return (price * factor).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return (unit_price * quantity).quantize(CENT)
