"""The chain's head follows its events in the database: inserting an event moves its instance's
head (history_sequence, history_hash) in the same statement, so recording history is one
statement a change, not two, and no writer can append without moving the head.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Only forward: several events inserted together move the head to the last of them, whatever
# order the rows' triggers fire in.
_MOVE_HEAD = """
    UPDATE instances SET history_sequence = NEW.sequence, history_hash = NEW.hash
    WHERE id = NEW.instance_id AND history_sequence < NEW.sequence;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER history_head AFTER INSERT ON history_events BEGIN {_MOVE_HEAD} END")
        return
    op.execute(
        "CREATE FUNCTION mailgate_history_head() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_MOVE_HEAD} RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER history_head AFTER INSERT ON history_events "
        "FOR EACH ROW EXECUTE FUNCTION mailgate_history_head()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER history_head")
        return
    op.execute("DROP TRIGGER history_head ON history_events")
    op.execute("DROP FUNCTION mailgate_history_head()")
