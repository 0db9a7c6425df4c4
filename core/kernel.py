"""The plugin kernel: discovers addons, orders them by dependency, lets each register, then freezes.

An addon is a folder with ``__manifest__.py`` (data) and ``__init__.py`` defining ``register(kernel)``.
"""
from __future__ import annotations

import graphlib
import importlib
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pluggy

from core import hookspecs as kernel_hookspecs
from core.errors import StartupError
from core.manifest import Manifest, ManifestError, read_manifest

BUILTIN_ADDONS = Path(__file__).resolve().parent.parent / "addons"
EXTERNAL_PACKAGE = "kontor_addons"


class AddonError(StartupError):
    """Start-up refused: a missing dependency, a cycle, a bad manifest, a stray hook.

    A StartupError, so ``run.py``, gunicorn and the tools print its one line and exit 1 instead of a traceback.
    """


class KernelFrozen(AddonError):
    """Registration after start-up."""


@dataclass
class Addon:
    manifest: Manifest
    path: Path
    module: types.ModuleType | None = None

    @property
    def name(self) -> str:
        return self.manifest.name


@dataclass(frozen=True)
class MenuItem:
    label: str
    endpoint: str
    order: int = 50
    icon: str = ""


@dataclass(frozen=True)
class Tile:
    title: str
    value: str
    detail: str = ""
    endpoint: str | None = None
    endpoint_args: dict = field(default_factory=dict)
    tone: str = ""  # "", "warn" or "bad"
    order: int = 50


def discover(paths: list[Path]) -> dict[str, Addon]:
    found: dict[str, Addon] = {}
    for base in paths:
        base = Path(base)
        if not base.is_dir():
            raise AddonError(f"Addon folder {base} does not exist")
        for child in sorted(base.iterdir()):
            if (child / "__manifest__.py").is_file():
                try:
                    manifest = read_manifest(child)
                except ManifestError as exc:  # a bad manifest stops start-up like any other addon error
                    raise AddonError(str(exc)) from exc
                if manifest.name in found:
                    raise AddonError(f"Two addons are named {manifest.name!r}: {found[manifest.name].path} and {child}")
                found[manifest.name] = Addon(manifest, child)
    return found


def load_order(addons: dict[str, Addon]) -> list[str]:
    """Dependencies first; a missing dependency or a cycle raises AddonError naming the addons."""
    missing = [f"{a.name} needs {dep}" for a in addons.values() for dep in a.manifest.depends if dep not in addons]
    if missing:
        raise AddonError("Missing addon dependency: " + "; ".join(missing) + ". Install it or remove the addon.")
    sorter = graphlib.TopologicalSorter({a.name: sorted(a.manifest.depends) for a in addons.values()})
    try:
        # static_order is stable for equal inputs; sort names first so the order never depends on the disk.
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise AddonError("Addon dependency cycle: " + " -> ".join(cycle)) from exc


def external_package(folder: Path) -> types.ModuleType:
    """The package ``kontor_addons`` that addons outside addons/ are imported under, searching ``folder`` too."""
    package = sys.modules.get(EXTERNAL_PACKAGE)
    if package is None:
        package = types.ModuleType(EXTERNAL_PACKAGE)
        package.__path__ = []  # type: ignore[attr-defined]
        sys.modules[EXTERNAL_PACKAGE] = package
    if str(folder) not in package.__path__:  # type: ignore[attr-defined]
        package.__path__.append(str(folder))  # type: ignore[attr-defined]
    return package


class Kernel:
    def __init__(self, paths: list[Path] | None = None, only: list[str] | None = None):
        paths = [BUILTIN_ADDONS, *(paths or [])]
        found = discover(paths)
        if only is not None:
            unknown = [n for n in only if n not in found]
            if unknown:
                raise AddonError(f"Unknown addon(s): {', '.join(unknown)}")
            found = {n: a for n, a in found.items() if n in only}
        self.extra_paths = [Path(p) for p in paths[1:]]
        self.addons: list[Addon] = [found[n] for n in load_order(found)]
        self.pm = pluggy.PluginManager("kontor")
        self.pm.add_hookspecs(kernel_hookspecs)
        self.blueprints: list[tuple[Any, dict]] = []
        self.api_blueprints: list[Any] = []
        self.permissions: dict[str, set[str]] = {}
        self.cli_commands: list[Any] = []
        self.app_setup: list[Callable] = []
        self._frozen = False
        self._current: Addon | None = None

    # -- start-up -------------------------------------------------------------------------------------------
    @property
    def hook(self):
        return self.pm.hook

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.addons]

    def import_addon(self, addon: Addon) -> types.ModuleType:
        if addon.path.parent == BUILTIN_ADDONS:
            return importlib.import_module(f"addons.{addon.name}")
        own = sys.modules.get(addon.name)
        if own is not None and Path(getattr(own, "__file__", None) or "/").resolve() == \
                (addon.path / "__init__.py").resolve():
            # Already imported under its own name (pytest collecting the addon's tests, or its conftest.py): use
            # that module; a second copy as kontor_addons.<name> would define its tables twice.
            sys.modules.setdefault(f"{EXTERNAL_PACKAGE}.{addon.name}", own)
            return own
        external_package(addon.path.parent)
        return importlib.import_module(f"{EXTERNAL_PACKAGE}.{addon.name}")

    def start(self) -> None:
        """Import and register every addon in load order, check hooks, then freeze."""
        for addon in self.addons:
            addon.module = self.import_addon(addon)
            register = getattr(addon.module, "register", None)
            if register is None:
                raise AddonError(f"Addon {addon.name} has no register(kernel) function")
            self._current = addon
            register(self)
        self._current = None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise AddonError(f"A hook implementation has no specification: {exc}") from exc
        self._frozen = True

    def _check_open(self) -> None:
        if self._frozen:
            raise KernelFrozen("The kernel is started; addons register only inside register(kernel)")

    # -- what addons call from register(kernel) --------------------------------------------------------------
    def add_hookspecs(self, module) -> None:
        self._check_open()
        self.pm.add_hookspecs(module)

    def register_hooks(self, module) -> None:
        self._check_open()
        name = f"{self._current.name}:{module.__name__}" if self._current else None
        self.pm.register(module, name=name)

    def register_blueprint(self, blueprint, **options) -> None:
        """An HTML blueprint (Flask)."""
        self._check_open()
        self.blueprints.append((blueprint, options))

    def register_api(self, blueprint) -> None:
        """A flask-smorest Blueprint; mounted under /api/v1."""
        self._check_open()
        self.api_blueprints.append(blueprint)

    def register_permissions(self, table: dict[str, list[str] | tuple[str, ...]]) -> None:
        """``{"invoicing.post": ["admin", "back_office"], ...}``: which roles hold each permission."""
        self._check_open()
        for permission, roles in table.items():
            self.permissions.setdefault(permission, set()).update(roles)

    def register_cli(self, command) -> None:
        self._check_open()
        self.cli_commands.append(command)

    def on_app(self, fn: Callable) -> None:
        """``fn(app)`` runs once the app is built (template filters, error pages)."""
        self._check_open()
        self.app_setup.append(fn)

    # -- reading ---------------------------------------------------------------------------------------------
    def addon(self, name: str) -> Addon | None:
        return next((a for a in self.addons if a.name == name), None)

    def has(self, name: str) -> bool:
        return self.addon(name) is not None

    def migration_locations(self) -> list[str]:
        return [str(a.path / "migrations" / "versions") for a in self.addons
                if (a.path / "migrations" / "versions").is_dir()]

    def template_folders(self) -> list[str]:
        """Dependants first, so a later addon overrides an earlier one's template by path."""
        return [str(a.path / "templates") for a in reversed(self.addons) if (a.path / "templates").is_dir()]
