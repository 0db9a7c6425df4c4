"""Write an addon's next migration from its models (Alembic autogenerate, limited to the addon's tables).

    .venv/bin/python tools/make_migration.py invoicing "add payment terms"

Read the file it writes before committing it: autogenerate misses renames and data moves.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

from core.app import create_app  # noqa: E402
from core.config import TestConfig  # noqa: E402
from core.extensions import db  # noqa: E402
from core.install import alembic_config, migrate  # noqa: E402


def main(addon: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig(f"sqlite:///{tmp}/gen.db"))
        kernel = app.extensions["kontor"]
        migrate(app)
        if addon == "core":
            folder, depends = Path("core/migrations/versions"), []
        else:
            target = kernel.addon(addon)
            folder = target.path / "migrations" / "versions"
            depends = list(target.manifest.depends) + ["core"]
        folder.mkdir(parents=True, exist_ok=True)
        with app.app_context(), db.engine.begin() as connection:
            cfg = alembic_config(app, connection, table_prefixes=[f"{addon}_"])
            script = ScriptDirectory.from_config(cfg)
            heads = [h for h in script.get_revisions("heads") if addon in (h.branch_labels or ())
                     or any(addon in (r.branch_labels or ()) for r in script.iterate_revisions(h.revision, "base"))]
            existing = len(list(folder.glob("*.py")))
            rev_id = f"{addon}_{existing + 1:04d}"
            if heads:
                command.revision(cfg, message=message, autogenerate=True, head=f"{addon}@head", rev_id=rev_id)
            else:
                # First migration of the addon: a new branch, after the heads of what it depends on.
                dep_heads = [f"{d}@head" for d in depends]
                command.revision(cfg, message=message, autogenerate=True, head="base", branch_label=addon,
                                 version_path=str(folder), rev_id=rev_id,
                                 depends_on=[script.get_revision(d).revision for d in dep_heads] or None)
        print(f"wrote {folder}/{rev_id}*.py")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "initial")
