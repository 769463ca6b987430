"""recovery vouchers, and the audit index that tells whether a person ever had a device

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tpp_warehouse.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tpp_recoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tpp_recoveries")),
    )
    with op.batch_alter_table("tpp_recoveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tpp_recoveries_person"), ["person"], unique=False)
    with op.batch_alter_table("tpp_audit", schema=None) as batch_op:
        batch_op.create_index("ix_tpp_audit_actor_kind", ["actor", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tpp_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_tpp_audit_actor_kind")
    with op.batch_alter_table("tpp_recoveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tpp_recoveries_person"))
    op.drop_table("tpp_recoveries")
