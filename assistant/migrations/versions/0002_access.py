"""Private records: an edit secret per consultation, an audit log, admin sessions and login throttling.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Records made before this revision have no edit secret: they open read-only, and only the
    # operator (admin) can change or delete them.
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("edit_hash", sa.Text))
    op.create_index("consultations_updated", "consultations", ["updated_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("actor", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("audit_at", "audit", ["at"])
    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("login_failures_actor", "login_failures", ["actor", "at"])
