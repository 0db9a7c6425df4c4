"""No file cites a file that is not in the repository: every ``something.md`` a doc, docstring, template or
comment names exists (next to the citing file, at the root, or in docs/), and nothing points to the shared folder
next to the checkout, where the contract lived while Kontor was being written."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", "instance", "build", "test-results", ".hypothesis",
             ".pytest_cache"}
TEXT = {".py", ".md", ".html", ".txt", ".toml", ".ini", ".cfg", ".js", ".css", ".csv", ".mako", ".json", ".yml",
        ".yaml", ""}
# A path ending in .md, not part of a longer word or URL. Built in two parts so this file does not cite itself.
MD_REFERENCE = re.compile(r"(?<![\w/.:-])((?:\.\./|\./|[\w-]+/)*[\w-]+" + r"\.md)\b")
OUTSIDE = re.compile(r"\.\./" + r"shared\b")


def _files():
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if any(p in SKIP_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        if path == Path(__file__).resolve():
            continue
        if path.is_file() and path.suffix in TEXT and path.stat().st_size < 2_000_000:
            yield path


def _exists(citing: Path, reference: str) -> bool:
    # docs/reference/: the generators in tools/ write the links of the pages there.
    return any((base / reference).is_file()
               for base in (citing.parent, ROOT, ROOT / "docs", ROOT / "docs" / "reference"))


def test_every_cited_markdown_file_is_in_the_repository():
    dangling = []
    for path in _files():
        text = path.read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for reference in MD_REFERENCE.findall(line):
                if not _exists(path, reference):
                    dangling.append(f"{path.relative_to(ROOT)}:{number}: {reference}")
            if OUTSIDE.search(line):
                dangling.append(f"{path.relative_to(ROOT)}:{number}: points outside the repository")
    assert not dangling, "cited but not in the repository:\n" + "\n".join(dangling)


def test_the_check_sees_a_dangling_reference(tmp_path):
    """The pattern finds the forms the code used (so the test above can fail)."""
    outside = "../" + "shared/API" + ".md"
    found = MD_REFERENCE.findall('"""Error shape (API' + f'.md): see {outside} and docs/x.md."""')
    assert found == ["API" + ".md", outside, "docs/x.md"]
    assert OUTSIDE.search(outside)
    assert not _exists(ROOT / "core" / "api.py", "API" + ".md")
    assert _exists(ROOT / "docs" / "integrations.md", "api.md") and _exists(ROOT / "README.md", "docs/api.md")
