"""metrics: a monthly product rollup for product rankings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:30:00

See graphql_api/metrics/models.py (SalesProductMonth): topProducts over whole months reads one
row per product and month instead of one per product, day and country. Filled from
`sales_daily`, of which it is the monthly sum.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sales_product_month',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('stock_code', sa.String(length=64), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'stock_code')
    )
    month = ("CAST(date_trunc('month', day) AS date)" if op.get_bind().dialect.name == "postgresql"
             else "substr(day, 1, 8) || '01'")
    op.execute(
        "INSERT INTO sales_product_month (month, stock_code, gross, returns, units, "  # noqa: S608
        f"returned_units, orders) SELECT {month}, stock_code, SUM(gross), SUM(returns), "
        f"SUM(units), SUM(returned_units), SUM(orders) FROM sales_daily GROUP BY {month}, "
        "stock_code")


def downgrade() -> None:
    op.drop_table('sales_product_month')
