"""EN 16931 validation for the tests: the official CEN schematron (compiled to XSLT) run with Saxon-HE.

The XSD check that factur-x does on the way out says the XML has the right shape; the schematron says it is a
valid invoice (totals add up, every VAT category has what it needs, the seller is identified...). Neither
drafthorse nor factur-x runs it, so the tests do, on every kind of document Kontor emits.

The rules (EUPL-1.2, the European Commission's eInvoicing-EN16931 release) are not in this repository: they are read
from the folder named by ``KONTOR_EN16931_RULES`` (``.ci/run`` sets it to ``shared/en16931`` beside the checkout). Without it the
validating tests skip and say how to set it; under ``CI=true`` they fail instead, so CI cannot go green without
having run them. Nothing at runtime needs the folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

RULES_ENV = "KONTOR_EN16931_RULES"
HOW_TO = (f"set {RULES_ENV} to the folder of the EN 16931 validation rules (EN16931-CII-validation.xslt), "
          f"the shared/en16931 beside the checkout: {RULES_ENV}=\"$(cd .. && pwd)/shared/en16931\"")
SVRL = "http://purl.oclc.org/dsdl/svrl"
STYLESHEETS = {"cii": "EN16931-CII-validation.xslt", "ubl": "EN16931-UBL-validation.xslt"}


class RulesMissing(Exception):
    """The rules folder is not set or cannot be read; the message says how to fix it."""


def rules_file(syntax: str = "cii") -> Path:
    """The compiled schematron for ``syntax`` ("cii" or "ubl"), or RulesMissing saying why not."""
    folder = os.environ.get(RULES_ENV, "").strip()
    if not folder:
        raise RulesMissing(f"{RULES_ENV} is not set: {HOW_TO}")
    path = Path(folder).expanduser() / STYLESHEETS[syntax]
    try:
        with path.open("rb") as handle:
            if not handle.read(1):
                raise RulesMissing(f"{path} is empty: {HOW_TO}")
    except OSError as exc:
        raise RulesMissing(f"{RULES_ENV}={folder}: cannot read {path} ({exc.strerror}): {HOW_TO}") from None
    return path


@dataclass
class Assertion:
    id: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.id}] ({self.flag}) {self.text} at {self.location}"


@dataclass
class Report:
    errors: list[Assertion] = field(default_factory=list)
    warnings: list[Assertion] = field(default_factory=list)
    rules_fired: int = 0

    def summary(self) -> str:
        lines = [f"{len(self.errors)} fatal, {len(self.warnings)} warnings ({self.rules_fired} rules fired)"]
        lines += [f"  ERROR {a}" for a in self.errors]
        lines += [f"  WARNING {a}" for a in self.warnings]
        return "\n".join(lines)


def parse_svrl(svrl: str | bytes) -> Report:
    """failed-assert (and successful-report) with flag="fatal" or no flag are errors; flag="warning" warnings."""
    root = etree.fromstring(svrl.encode() if isinstance(svrl, str) else svrl)
    report = Report(rules_fired=len(root.findall(f"{{{SVRL}}}fired-rule")))
    for tag in ("failed-assert", "successful-report"):
        for node in root.iter(f"{{{SVRL}}}{tag}"):
            flag = (node.get("flag") or "fatal").lower()
            text = " ".join("".join(node.findtext(f"{{{SVRL}}}text") or "").split())
            item = Assertion(node.get("id") or "?", flag, node.get("location") or "", text)
            (report.warnings if flag in ("warning", "information") else report.errors).append(item)
    return report


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def load_validator(syntax: str = "cii") -> Validator:
    """The compiled rules, for a session fixture; without them a skip saying how to set them, under CI a failure."""
    import pytest
    try:
        return Validator(syntax)
    except RulesMissing as exc:
        if under_ci():
            pytest.fail(f"CI=true but the EN 16931 rules cannot be read, so e-invoices would go unchecked: {exc}",
                        pytrace=False)
        pytest.skip(str(exc))


class Validator:
    """One Saxon processor and the compiled stylesheet: compiling the CII rules takes seconds, running them not."""

    def __init__(self, syntax: str = "cii"):
        from saxonche import PySaxonProcessor
        self.syntax = syntax
        self.path = rules_file(syntax)
        self._processor = PySaxonProcessor(license=False)
        self._executable = self._processor.new_xslt30_processor().compile_stylesheet(
            stylesheet_file=str(self.path))
        if self._executable is None:
            raise RuntimeError(f"Saxon could not compile {self.path}")

    def validate(self, xml: bytes | str) -> Report:
        text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
        node = self._processor.parse_xml(xml_text=text)
        return parse_svrl(self._executable.transform_to_string(xdm_node=node))
