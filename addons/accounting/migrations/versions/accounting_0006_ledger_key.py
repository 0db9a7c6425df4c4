"""the ledger's keyed anchor: the hash chain is HMAC-keyed from the current last entry on

``accounting_chain_anchors`` holds one row: the chain index of the last entry posted before the chain was keyed,
that entry's (unkeyed) hash, and HMAC-SHA256 of both under the ledger key (``KONTOR_LEDGER_KEY``, kept outside the
database). What is posted is not re-hashed: entries up to the anchor keep their SHA-256 links, entries after it
are HMAC-chained (addons/accounting/chain.py). The row is written here when the app has a key (it always has one:
the environment's, or the generated instance/ledger_key); a chain anchored at index 0 is keyed from its start.
The downgrade drops the table: upgrading again finds where the keyed part begins (chain.unkeyed_end) and anchors
there, so a keyed chain still verifies.

Revision ID: accounting_0006_ledger_key
Revises: accounting_0005_entries
"""
import sqlalchemy as sa
from alembic import op

revision = "accounting_0006_ledger_key"
down_revision = "accounting_0005_entries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    anchors = op.create_table(
        "accounting_chain_anchors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chain_index", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chain_index", name="uq_accounting_chain_anchors_chain_index"),
    )
    from flask import current_app, has_app_context

    key = current_app.config.get("LEDGER_KEY") if has_app_context() else None
    if not key:
        return  # keyed later: run.py ledger anchor (verify says "not keyed" meanwhile)
    from addons.accounting.chain import anchor_mac, unkeyed_end
    from core.models import utcnow
    bind = op.get_bind()
    # The last entry, on a ledger never keyed; after a downgrade and upgrade, where keying had begun.
    index = unkeyed_end(bind)
    digest = (bind.scalar(sa.text("SELECT hash FROM accounting_entries WHERE chain_index = :i"), {"i": index})
              or "") if index else ""
    bind.execute(anchors.insert().values(chain_index=index, hash=digest, mac=anchor_mac(key, index, digest),
                                         created_at=utcnow()))


def downgrade() -> None:
    op.drop_table("accounting_chain_anchors")
