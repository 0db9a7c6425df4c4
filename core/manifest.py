"""An addon's ``__manifest__.py``: a dict literal, read as data (never imported)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    summary: str = ""
    depends: tuple[str, ...] = field(default_factory=tuple)


def read_manifest(path: Path) -> Manifest:
    """Parse ``path/__manifest__.py`` with ast.literal_eval; the folder name must match ``name``."""
    file = Path(path) / "__manifest__.py"
    try:
        data = ast.literal_eval(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise ManifestError(f"{file}: not a readable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{file}: the manifest must be a dict literal")
    missing = [k for k in ("name", "version") if not data.get(k)]
    if missing:
        raise ManifestError(f"{file}: missing {', '.join(missing)}")
    if data["name"] != Path(path).name:
        raise ManifestError(f"{file}: name {data['name']!r} differs from its folder {Path(path).name!r}")
    depends = data.get("depends", [])
    if not isinstance(depends, (list, tuple)) or not all(isinstance(d, str) for d in depends):
        raise ManifestError(f"{file}: depends must be a list of addon names")
    return Manifest(name=data["name"], version=str(data["version"]), summary=str(data.get("summary", "")),
                    depends=tuple(depends))
