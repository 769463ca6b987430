"""invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tpp_warehouse.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tpp_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=255), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("invited_by", sa.String(length=100), nullable=False),
        sa.Column("invited_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tpp_invitations")),
        sa.UniqueConstraint("scope_kind", "scope_value", "person", name=op.f("uq_tpp_invitations_scope_kind")),
    )
    with op.batch_alter_table("tpp_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tpp_invitations_person"), ["person"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tpp_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tpp_invitations_person"))

    op.drop_table("tpp_invitations")
