"""metrics: a yearly product rollup per country for a country's product rankings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:20:00

See graphql_api/metrics/models.py (SalesCountryProductYear): topProducts in one country reads
whole years from it instead of every day's row of that country in `sales_daily`, of which it is
the yearly sum (and from which it is filled).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    year = ("CAST(date_trunc('year', day) AS date)" if op.get_bind().dialect.name == "postgresql"
            else "substr(day, 1, 5) || '01-01'")
    op.create_table(
        'sales_country_product_year',
        sa.Column('gross', sa.BigInteger(), nullable=False),
        sa.Column('returns', sa.BigInteger(), nullable=False),
        sa.Column('units', sa.BigInteger(), nullable=False),
        sa.Column('returned_units', sa.BigInteger(), nullable=False),
        sa.Column('orders', sa.BigInteger(), nullable=False),
        sa.Column('country', sa.String(length=64), nullable=False),
        sa.Column('year', sa.Date(), nullable=False),
        sa.Column('stock_code', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('country', 'year', 'stock_code'),  # read one country at a time
    )
    op.execute(
        "INSERT INTO sales_country_product_year (year, country, stock_code, gross, returns, "  # noqa: S608
        f"units, returned_units, orders) SELECT {year}, country, stock_code, SUM(gross), "
        f"SUM(returns), SUM(units), SUM(returned_units), SUM(orders) FROM sales_daily "
        f"GROUP BY {year}, country, stock_code")


def downgrade() -> None:
    op.drop_table('sales_country_product_year')
