"""metrics: monthly and yearly product rollups per country for a country's product rankings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:20:00

See graphql_api/metrics/models.py (SalesCountryProductMonth, SalesCountryProductYear):
topProducts in one country reads whole years and months from these instead of every day's row of
that country in `sales_daily`, of which they are the sums (and from which they are filled).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIODS = ("month", "year")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    starts = {"month": ("CAST(date_trunc('month', day) AS date)" if postgresql
                        else "substr(day, 1, 8) || '01'"),
              "year": ("CAST(date_trunc('year', day) AS date)" if postgresql
                       else "substr(day, 1, 5) || '01-01'")}
    for period in PERIODS:
        table = f"sales_country_product_{period}"
        op.create_table(
            table,
            sa.Column('gross', sa.BigInteger(), nullable=False),
            sa.Column('returns', sa.BigInteger(), nullable=False),
            sa.Column('units', sa.BigInteger(), nullable=False),
            sa.Column('returned_units', sa.BigInteger(), nullable=False),
            sa.Column('orders', sa.BigInteger(), nullable=False),
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column('country', sa.String(length=64), nullable=False),
            sa.Column('stock_code', sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint(period, 'country', 'stock_code'),
        )
        start = starts[period]
        op.execute(
            f"INSERT INTO {table} ({period}, country, stock_code, gross, returns, units, "  # noqa: S608
            f"returned_units, orders) SELECT {start}, country, stock_code, SUM(gross), "
            f"SUM(returns), SUM(units), SUM(returned_units), SUM(orders) FROM sales_daily "
            f"GROUP BY {start}, country, stock_code")


def downgrade() -> None:
    for period in reversed(PERIODS):
        op.drop_table(f"sales_country_product_{period}")
