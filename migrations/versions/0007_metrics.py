"""sales metrics: the sales-line facts and their rollups

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:30:00

See graphql_api/metrics/models.py for why the rollups hold integer amounts and how the distinct
counts (orders, customers) stay exact.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sales_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('invoice', sa.String(length=32), nullable=False),
    sa.Column('stock_code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('invoice_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('is_return', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice', 'stock_code', 'source', 'quantity', 'unit_price', 'is_return',
                        name='uq_sales_line')
    )
    with op.batch_alter_table('sales_line', schema=None) as batch_op:
        batch_op.create_index('ix_sales_line_date', ['invoice_date', 'id'], unique=False)
        batch_op.create_index('ix_sales_line_stock_code', ['stock_code'], unique=False)

    op.create_table('sales_daily_country',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'country')
    )
    op.create_table('sales_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('stock_code', sa.String(length=64), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'country', 'stock_code')
    )
    op.create_table('sales_order',
    sa.Column('invoice', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('invoice')
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_day_country', ['day', 'country'], unique=False)

    op.create_table('sales_customer_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('day', 'country', 'customer_id')
    )
    version = op.create_table('sales_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(version, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('sales_version')
    op.drop_table('sales_customer_day')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_day_country')
    op.drop_table('sales_order')
    op.drop_table('sales_daily')
    op.drop_table('sales_daily_country')
    with op.batch_alter_table('sales_line', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_line_stock_code')
        batch_op.drop_index('ix_sales_line_date')
    op.drop_table('sales_line')
