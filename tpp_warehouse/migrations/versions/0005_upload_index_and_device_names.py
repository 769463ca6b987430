"""the index a release was uploaded to, and each decision's device name as it was when it signed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tpp_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index_name", sa.String(length=255), nullable=True))
    with op.batch_alter_table("tpp_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_name", sa.String(length=64), nullable=True))
    # Earlier decisions get the name their device has now, the best that is known of it; a device
    # removed before this migration leaves None ("not recorded"). Earlier requests name no index.
    decisions = sa.table(
        "tpp_decisions",
        sa.column("person", sa.String),
        sa.column("credential_id", sa.LargeBinary),
        sa.column("device_name", sa.String),
    )
    devices = sa.table(
        "tpp_devices", sa.column("person", sa.String), sa.column("credential_id", sa.LargeBinary), sa.column("name")
    )
    name_now = (
        sa.select(devices.c.name)
        .where(devices.c.credential_id == decisions.c.credential_id, devices.c.person == decisions.c.person)
        .scalar_subquery()
    )
    op.execute(decisions.update().values(device_name=name_now))


def downgrade() -> None:
    with op.batch_alter_table("tpp_decisions", schema=None) as batch_op:
        batch_op.drop_column("device_name")
    with op.batch_alter_table("tpp_requests", schema=None) as batch_op:
        batch_op.drop_column("index_name")
