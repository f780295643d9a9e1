"""A daily check-in belongs to an intake conversation (`parent_id`), one per day (`day`, unique per parent).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch.create_foreign_key("fk_conversation_parent", "conversation", ["parent_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_unique_constraint("uq_conversation_parent_day", ["parent_id", "day"])


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_constraint("uq_conversation_parent_day", type_="unique")
        batch.drop_constraint("fk_conversation_parent", type_="foreignkey")
        batch.drop_column("day")
        batch.drop_column("parent_id")
