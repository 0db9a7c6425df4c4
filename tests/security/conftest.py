"""The security tests use the reliability tests' set-up (``shop``: customer, taxes, invoices through the API;
``live``: a real threaded server)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("kontor_reliability_setup",
                                               Path(__file__).parent.parent / "reliability" / "conftest.py")
_setup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setup)

Shop = _setup.Shop
shop = _setup.shop
live = _setup.live
