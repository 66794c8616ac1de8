"""Product administration: admin-only CRUD, validation as userErrors, soft delete, cache freshness."""

from __future__ import annotations

import uuid
from typing import Any

from graphql_api.core.ids import to_global_id

CREATE = """mutation($input: ProductCreateInput!) { productCreate(input: $input) {
  product { id sku slug name price { amount } stock brand tags images thumbnail discountPercent
            salePrice { amount } category { slug } }
  userErrors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: ProductUpdateInput!) { productUpdate(id: $id, input: $input) {
  product { id name price { amount } stock description brand tags }
  userErrors { field code message } } }"""
DELETE = """mutation($id: ID!) { productDelete(id: $id) { deletedId userErrors { field code } } }"""


def new_sku() -> str:
    return f"TEST-{uuid.uuid4().hex[:10].upper()}"


async def first_category_id(gql: Any) -> str:
    return (await gql.data("{ categories { id } }"))["categories"][0]["id"]  # type: ignore[no-any-return]


async def test_admin_creates_updates_and_deletes_a_product(gql: Any, admin_token: str) -> None:
    category_id = await first_category_id(gql)
    sku = new_sku()
    created = await gql.data(CREATE, {"input": {
        "sku": sku, "name": "Test Kettle 1.7 L", "price": "49.90", "stock": 7,
        "categoryId": category_id, "brand": "Testbrand", "tags": ["Kitchen", "new"],
        "images": ["https://img.example/a.jpg"], "discountPercent": 15, "description": "Boils."}},
        admin_token)
    payload = created["productCreate"]
    assert payload["userErrors"] == []
    product = payload["product"]
    assert product["sku"] == sku
    assert product["slug"].startswith("test-kettle-1-7-l")
    assert product["price"]["amount"] == "49.90"
    assert product["salePrice"]["amount"] == "42.42"  # 49.90 * 0.85 = 42.415, half-up
    assert product["tags"] == ["kitchen", "new"]
    assert product["thumbnail"] == "https://img.example/a.jpg"

    # Readable at once: the write invalidated the cached catalog.
    seen = await gql.data("query($sku: String) { product(sku: $sku) { id stock } }", {"sku": sku})
    assert seen["product"] == {"id": product["id"], "stock": 7}

    updated = await gql.data(UPDATE, {"id": product["id"], "input": {"stock": 3, "price": "45"}},
                             admin_token)
    assert updated["productUpdate"]["userErrors"] == []
    changed = updated["productUpdate"]["product"]
    assert changed["stock"] == 3 and changed["price"]["amount"] == "45.00"
    assert changed["name"] == "Test Kettle 1.7 L" and changed["description"] == "Boils."
    seen = await gql.data("query($sku: String) { product(sku: $sku) { stock } }", {"sku": sku})
    assert seen["product"]["stock"] == 3

    deleted = await gql.data(DELETE, {"id": product["id"]}, admin_token)
    assert deleted["productDelete"] == {"deletedId": product["id"], "userErrors": []}
    for query, variables in [
        ("query($sku: String) { product(sku: $sku) { id } }", {"sku": sku}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": product["id"]}),
    ]:
        data = await gql.data(query, variables)
        assert next(iter(data.values())) is None
    listed = await gql.data('query($n: String) { products(first: 5, filter: {nameContains: $n}) '
                            '{ totalCount } }', {"n": "Test Kettle 1.7"})
    assert listed["products"]["totalCount"] == 0
    again = await gql.data(DELETE, {"id": product["id"]}, admin_token)
    assert again["productDelete"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_soft_deleted_product_stays_in_the_database(gql: Any, admin_token: str,
                                                          resources: Any) -> None:
    from sqlalchemy import select

    from graphql_api.catalog.models import Product

    sku = new_sku()
    created = await gql.data(CREATE, {"input": {"sku": sku, "name": "Ghost", "price": "1"}},
                             admin_token)
    await gql.data(DELETE, {"id": created["productCreate"]["product"]["id"]}, admin_token)
    async with resources.db.session() as session:
        row = (await session.execute(select(Product).where(Product.sku == sku))).scalar_one()
    assert row.deleted_at is not None


async def test_validation_comes_back_as_user_errors(gql: Any, admin_token: str) -> None:
    sku = new_sku()
    ok = await gql.data(CREATE, {"input": {"sku": sku, "name": "Dup", "price": "5"}}, admin_token)
    assert ok["productCreate"]["userErrors"] == []
    cases = [
        ({"sku": sku, "name": "Dup again", "price": "5"}, ["sku"], "DUPLICATE"),
        ({"sku": new_sku(), "name": "Neg", "price": "-1"}, ["price"], "OUT_OF_RANGE"),
        ({"sku": new_sku(), "name": "Frac", "price": "1.234"}, ["price"], "INVALID"),
        ({"sku": new_sku(), "name": "Neg stock", "price": "1", "stock": -4}, ["stock"],
         "OUT_OF_RANGE"),
        ({"sku": new_sku(), "name": "Cat", "price": "1",
          "categoryId": to_global_id("Category", 987654)}, ["categoryId"], "NOT_FOUND"),
        ({"sku": "bad sku!", "name": "x", "price": "1"}, ["sku"], "INVALID"),
        ({"sku": new_sku(), "name": "   ", "price": "1"}, ["name"], "REQUIRED"),
        ({"sku": new_sku(), "name": "d", "price": "1", "discountPercent": 101},
         ["discountPercent"], "OUT_OF_RANGE"),
        ({"sku": new_sku(), "name": "i", "price": "1", "images": ["javascript:alert(1)"]},
         ["images"], "INVALID"),
    ]
    for data, field, code in cases:
        payload = (await gql.data(CREATE, {"input": data}, admin_token))["productCreate"]
        assert payload["product"] is None, data
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in payload["userErrors"]
        ], (data, payload)


async def test_several_errors_are_reported_together_and_nothing_is_written(
    gql: Any, admin_token: str
) -> None:
    sku = new_sku()
    payload = (await gql.data(CREATE, {"input": {"sku": sku, "name": "x", "price": "-2",
                                                 "stock": -1}}, admin_token))["productCreate"]
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {("price",), ("stock",)}
    found = await gql.data("query($sku: String) { product(sku: $sku) { id } }", {"sku": sku})
    assert found["product"] is None


async def test_update_validates_and_leaves_the_product_untouched(gql: Any, admin_token: str
                                                                 ) -> None:
    sku, other = new_sku(), new_sku()
    product = (await gql.data(CREATE, {"input": {"sku": sku, "name": "Keep", "price": "10"}},
                              admin_token))["productCreate"]["product"]
    await gql.data(CREATE, {"input": {"sku": other, "name": "Other", "price": "10"}}, admin_token)
    payload = (await gql.data(UPDATE, {"id": product["id"], "input": {"sku": other, "stock": 9}},
                              admin_token))["productUpdate"]
    assert payload["product"] is None
    assert payload["userErrors"][0]["code"] == "DUPLICATE"
    again = await gql.data("query($sku: String) { product(sku: $sku) { stock } }", {"sku": sku})
    assert again["product"]["stock"] == 0
    nulled = (await gql.data(UPDATE, {"id": product["id"], "input": {"name": None}},
                             admin_token))["productUpdate"]
    assert nulled["userErrors"][0]["code"] == "REQUIRED"
    missing = (await gql.data(UPDATE, {"id": to_global_id("Product", 99999999),
                                       "input": {"stock": 1}}, admin_token))["productUpdate"]
    assert missing["userErrors"][0]["code"] == "NOT_FOUND"


async def test_product_mutations_need_an_admin(gql: Any, customer_token: str) -> None:
    variables = {"input": {"sku": new_sku(), "name": "Nope", "price": "1"}}
    anonymous = await gql(CREATE, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer = await gql(CREATE, variables, customer_token)
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert customer["data"] is None
    for query, v in [(UPDATE, {"id": to_global_id("Product", 1), "input": {"stock": 0}}),
                     (DELETE, {"id": to_global_id("Product", 1)})]:
        body = await gql(query, v, customer_token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_long_names_get_slugs_that_fit(gql: Any, admin_token: str) -> None:
    name = "Extraordinarily long product name " * 8  # ~270 characters before trimming
    slugs = set()
    for _ in range(3):
        sku = new_sku() + "-" + "S" * 40
        payload = (await gql.data(CREATE, {"input": {"sku": sku, "name": name[:255],
                                                     "price": "1"}}, admin_token))["productCreate"]
        assert payload["userErrors"] == [], payload
        slugs.add(payload["product"]["slug"])
    assert len(slugs) == 3 and all(len(s) <= 255 for s in slugs)
