"""Write an addon's next migration from its models (Alembic autogenerate, limited to the addon's tables).

    .venv/bin/python tools/make_migration.py invoicing "add payment terms"
    KONTOR_ADDONS=../my_addons .venv/bin/python tools/make_migration.py callout_fee initial

Read the file it writes before committing it: autogenerate misses renames and data moves.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

from core.app import create_app  # noqa: E402
from core.config import TestConfig  # noqa: E402
from core.errors import StartupError  # noqa: E402
from core.extensions import db  # noqa: E402
from core.install import alembic_config, migrate  # noqa: E402


class Refused(Exception):
    """One line for the terminal, exit status 1."""


def main(addon: str, message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig(f"sqlite:///{tmp}/gen.db"))
        kernel = app.extensions["kontor"]
        if addon != "core" and not kernel.has(addon):
            known = ", ".join(["core", *kernel.names])
            raise Refused(f"there is no addon {addon!r} (known: {known}; "
                          "an addon outside addons/ needs KONTOR_ADDONS=its parent folder)")
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


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make_migration.py",
        description="Write an addon's next Alembic migration from its models (autogenerate, only the tables "
                    "prefixed with the addon's name). Read the file before committing it.")
    parser.add_argument("addon", help="the addon's name (or core); addons outside addons/ are found through "
                                      "KONTOR_ADDONS")
    parser.add_argument("message", nargs="?", default="initial", help="what the migration does (default: initial)")
    args = parser.parse_args(argv)
    try:
        main(args.addon, args.message)
    except (Refused, StartupError) as exc:  # StartupError: an addon refused at start-up, a database unusable
        print(f"make_migration.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
