"""Shopping steps shared by the cart, checkout and order tests, as GraphQL a client would send."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert

from graphql_api.accounts.models import Role, User
from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from tests.catalog.test_product_admin import CREATE, first_category_id, new_sku

CART_FIELDS = """id itemCount updatedAt subtotal { amount currency } discountTotal { amount }
  total { amount currency } lines { product { id sku stock } quantity unitPrice { amount }
  lineTotal { amount } }"""
ORDER_FIELDS = """id number status version createdAt subtotal { amount currency }
  discountTotal { amount } total { amount currency }
  shippingAddress { name line1 line2 city postalCode country }
  lines { sku name quantity unitPrice { amount } lineTotal { amount } product { id stock } }
  statusHistory { status at note version } customer { id email }"""
ERRORS = "userErrors { field code message }"

CART = f"{{ cart {{ {CART_FIELDS} }} }}"
CART_CREATE = f"mutation {{ cartCreate {{ cartToken cart {{ {CART_FIELDS} }} {ERRORS} }} }}"
LINES_ADD = f"""mutation($lines: [CartLineInput!]!) {{ cartLinesAdd(input: {{lines: $lines}}) {{
  cart {{ {CART_FIELDS} }} {ERRORS} }} }}"""
LINES_UPDATE = f"""mutation($lines: [CartLineInput!]!) {{ cartLinesUpdate(input: {{lines: $lines}})
  {{ cart {{ {CART_FIELDS} }} {ERRORS} }} }}"""
LINES_REMOVE = f"""mutation($ids: [ID!]!) {{ cartLinesRemove(input: {{productIds: $ids}}) {{
  cart {{ {CART_FIELDS} }} {ERRORS} }} }}"""
CART_CLEAR = f"mutation {{ cartClear {{ cart {{ {CART_FIELDS} }} {ERRORS} }} }}"
CHECKOUT = f"""mutation($input: CheckoutCompleteInput!) {{ checkoutComplete(input: $input) {{
  order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"""
STATUS_UPDATE = f"""mutation($id: ID!, $input: OrderStatusUpdateInput!) {{
  orderStatusUpdate(id: $id, input: $input) {{ order {{ id status version }} {ERRORS} }} }}"""
CANCEL = f"""mutation($id: ID!) {{ orderCancel(id: $id) {{ order {{ id status version }} {ERRORS} }} }}"""
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London",
           "postalCode": "SW1Y 4JH", "country": "GB"}


async def new_product(gql: Any, admin_token: str, stock: int, price: str = "10.00",
                      discount: int = 0, name: str = "Shop test item") -> str:
    # In a category and with a brand like catalog products (listing tests expect the newest to be).
    data = await gql.data(CREATE, {"input": {"sku": new_sku(), "name": name, "price": price,
                                             "stock": stock, "discountPercent": discount,
                                             "brand": "Shopbrand",
                                             "categoryId": await first_category_id(gql)}},
                          admin_token)
    assert data["productCreate"]["userErrors"] == [], data
    return data["productCreate"]["product"]["id"]  # type: ignore[no-any-return]


def line(product_id: str, quantity: int) -> dict[str, Any]:
    return {"productId": product_id, "quantity": quantity}


async def add(gql: Any, token: str, product_id: str, quantity: int) -> dict[str, Any]:
    data = await gql.data(LINES_ADD, {"lines": [line(product_id, quantity)]}, token)
    return data["cartLinesAdd"]  # type: ignore[no-any-return]


def checkout_input(key: str | None = None, **address: Any) -> dict[str, Any]:
    return {"input": {"idempotencyKey": key or uuid.uuid4().hex,
                      "shippingAddress": {**ADDRESS, **address}}}


async def checkout(gql: Any, token: str, key: str | None = None) -> dict[str, Any]:
    data = await gql.data(CHECKOUT, checkout_input(key), token)
    return data["checkoutComplete"]  # type: ignore[no-any-return]


async def buy(gql: Any, token: str, product_id: str, quantity: int = 1) -> dict[str, Any]:
    """Cart and checkout in one go; the new order."""
    assert (await add(gql, token, product_id, quantity))["userErrors"] == []
    payload = await checkout(gql, token)
    assert payload["userErrors"] == [], payload
    return payload["order"]  # type: ignore[no-any-return]


async def move(gql: Any, admin_token: str, order_id: str, *statuses: str) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for status in statuses:
        data = await gql.data(STATUS_UPDATE, {"id": order_id, "input": {"status": status}},
                              admin_token)
        payload = data["orderStatusUpdate"]
        assert payload["userErrors"] == [], payload
    return payload


async def stock_of(gql: Any, product_id: str) -> int:
    data = await gql.data("query($id: ID!) { product(id: $id) { stock } }", {"id": product_id})
    return data["product"]["stock"]  # type: ignore[no-any-return]


async def many_customers(resources: Resources, count: int) -> list[tuple[int, str]]:
    """`count` customers at once, as (id, access token): one insert, no password hashing (the
    tests using them never sign in with a password)."""
    from tests.conftest import make_user

    _, _, _ = await make_user(resources)  # makes sure the test signer exists
    signer = resources.extras["signer"]
    tag = uuid.uuid4().hex[:8]
    rows = [{"email": f"many-{tag}-{i}@example.com", "name": f"Customer {i}",
             "password_hash": "!", "role": Role.CUSTOMER.value, "is_active": True,
             "created_at": utcnow()} for i in range(count)]
    async with resources.db.transaction() as session:
        result = await session.execute(insert(User).returning(User.id), rows)  # type: ignore[arg-type]
        ids = sorted(result.scalars().all())
    return [(i, signer.issue_access(i, Role.CUSTOMER.value)) for i in ids]
