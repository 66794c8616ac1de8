"""metrics: a yearly product rollup and product names for product rankings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:45:00

See graphql_api/metrics/models.py (SalesProductYear, SalesProduct): topProducts over whole
years reads one row per product and year instead of twelve monthly ones, and names its products
without reading the sales lines. Filled from `sales_product_month` and `sales_line`.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sales_product_year',
    sa.Column('year', sa.Date(), nullable=False),
    sa.Column('stock_code', sa.String(length=64), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'stock_code')
    )
    op.create_table('sales_product',
    sa.Column('stock_code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('stock_code')
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    year = ("CAST(date_trunc('year', month) AS date)" if postgresql
            else "substr(month, 1, 5) || '01-01'")
    op.execute(
        "INSERT INTO sales_product_year (year, stock_code, gross, returns, units, "  # noqa: S608
        f"returned_units, orders) SELECT {year}, stock_code, SUM(gross), SUM(returns), "
        f"SUM(units), SUM(returned_units), SUM(orders) FROM sales_product_month GROUP BY {year}, "
        "stock_code")
    byte_order = ' COLLATE "C"' if postgresql else ""  # as the ledger compares descriptions
    op.execute("INSERT INTO sales_product (stock_code, description) "  # noqa: S608
               f"SELECT stock_code, MAX(description{byte_order}) FROM sales_line "
               "GROUP BY stock_code")


def downgrade() -> None:
    for table in ('sales_product', 'sales_product_year'):
        op.drop_table(table)
