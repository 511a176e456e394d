"""Keyed share codes and feedback tied to its record.

With ASSISTANT_RECORDS_KEY a consultation's share code is stored only as a keyed hash (its
primary key) with an encrypted copy for the admin's list; feedback given in a conversation
remembers its record, so deleting the record deletes it too.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("code_sealed", sa.Text))
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("code", sa.Text))
    op.create_index("feedback_code", "feedback", ["code"])
    op.create_index("feedback_created", "feedback", ["created_at"])
