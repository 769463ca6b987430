"""held files and releases of Warehouse-shaped hosts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tpp_warehouse.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tpp_held_files",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("uploader", sa.String(length=100), nullable=False),
        sa.Column("held_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("filename", name=op.f("pk_tpp_held_files")),
    )
    with op.batch_alter_table("tpp_held_files", schema=None) as batch_op:
        batch_op.create_index("ix_tpp_held_files_project_version", ["project", "version"], unique=False)
        batch_op.create_index(batch_op.f("ix_tpp_held_files_state"), ["state"], unique=False)
    op.create_table(
        "tpp_held_releases",
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("held_at", tpp_warehouse.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "version", name=op.f("pk_tpp_held_releases")),
    )


def downgrade() -> None:
    op.drop_table("tpp_held_releases")
    with op.batch_alter_table("tpp_held_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tpp_held_files_state"))
        batch_op.drop_index("ix_tpp_held_files_project_version")
    op.drop_table("tpp_held_files")
