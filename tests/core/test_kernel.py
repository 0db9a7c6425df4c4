"""Starting the kernel: addons found, ordered by dependency, registered, checked, then frozen.

Each test builds throwaway addons in ``tmp_path`` and picks them with ``only=`` (the kernel also scans the
built-in ``addons/`` folder). Names carry a per-test suffix: imported addon modules stay in ``sys.modules``.
"""
from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import click
import pytest
from flask import Blueprint

from core.kernel import AddonError, Kernel, KernelFrozen


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:6]


def make_addon(base: Path, name: str, depends=(), init: str | None = None, files: dict | None = None,
               manifest: str | None = None) -> Path:
    folder = base / name
    folder.mkdir(parents=True)
    (folder / "__manifest__.py").write_text(
        manifest if manifest is not None else
        repr({"name": name, "version": "1.0.0", "summary": f"the {name} addon", "depends": list(depends)}))
    (folder / "__init__.py").write_text(textwrap.dedent(init if init is not None else """
        REGISTERED = []

        def register(kernel):
            REGISTERED.append(kernel)
    """))
    for filename, content in (files or {}).items():
        (folder / filename).write_text(textwrap.dedent(content))
    return folder


def test_addons_load_dependencies_first(tmp_path, suffix):
    base, c, b, a = f"base_{suffix}", f"crm_{suffix}", f"billing_{suffix}", f"alpha_{suffix}"
    # Created in an order that matches neither the alphabet nor the dependencies.
    make_addon(tmp_path, c, depends=[b, base])
    make_addon(tmp_path, a, depends=[c])
    make_addon(tmp_path, b, depends=[base])
    make_addon(tmp_path, base)

    kernel = Kernel(paths=[tmp_path], only=[a, b, c, base])
    order = kernel.names
    assert sorted(order) == sorted([a, b, c, base])
    for addon in kernel.addons:
        for dependency in addon.manifest.depends:
            assert order.index(dependency) < order.index(addon.name), order
    assert order[0] == base and order[-1] == a

    kernel.start()
    assert all(addon.module.REGISTERED == [kernel] for addon in kernel.addons)  # register(kernel) ran once each


def test_a_missing_dependency_stops_start_up_naming_both_addons(tmp_path, suffix):
    needy, ghost = f"needy_{suffix}", f"ghost_{suffix}"
    make_addon(tmp_path, needy, depends=[ghost])
    with pytest.raises(AddonError) as error:
        Kernel(paths=[tmp_path], only=[needy])
    assert needy in str(error.value) and ghost in str(error.value)


def test_a_dependency_cycle_stops_start_up_naming_the_cycle(tmp_path, suffix):
    x, y, z = f"x_{suffix}", f"y_{suffix}", f"z_{suffix}"
    make_addon(tmp_path, x, depends=[y])
    make_addon(tmp_path, y, depends=[z])
    make_addon(tmp_path, z, depends=[x])
    with pytest.raises(AddonError, match="cycle") as error:
        Kernel(paths=[tmp_path], only=[x, y, z])
    message = str(error.value)
    assert x in message and y in message and z in message


def test_a_hook_implementation_without_a_specification_stops_start_up(tmp_path, suffix):
    stray = f"stray_{suffix}"
    make_addon(tmp_path, stray, init="""
        from . import hooks

        def register(kernel):
            kernel.register_hooks(hooks)
    """, files={"hooks.py": """
        from core.hookspecs import hookimpl

        @hookimpl
        def kontor_menu_itemz(user):  # a typo: no such hook
            return []
    """})
    kernel = Kernel(paths=[tmp_path], only=[stray])
    with pytest.raises(AddonError, match="kontor_menu_itemz"):
        kernel.start()


def test_an_addon_implements_the_hooks_its_dependency_emits(tmp_path, suffix):
    emitter, listener = f"emitter_{suffix}", f"listener_{suffix}"
    make_addon(tmp_path, emitter, init="""
        from . import hookspecs

        def register(kernel):
            kernel.add_hookspecs(hookspecs)
    """, files={"hookspecs.py": f"""
        from core.hookspecs import hookspec

        @hookspec
        def {emitter}_thing_done(thing):
            '''Called once ``thing`` is done.'''
    """})
    make_addon(tmp_path, listener, depends=[emitter], init="""
        from . import hooks

        def register(kernel):
            kernel.register_hooks(hooks)
    """, files={"hooks.py": f"""
        from core.hookspecs import hookimpl

        @hookimpl
        def {emitter}_thing_done(thing):
            return f"heard {{thing}}"
    """})
    kernel = Kernel(paths=[tmp_path], only=[emitter, listener])
    kernel.start()
    assert getattr(kernel.hook, f"{emitter}_thing_done")(thing="it") == ["heard it"]


def test_registering_after_start_up_raises_kernel_frozen(tmp_path, suffix):
    late = f"late_{suffix}"
    make_addon(tmp_path, late, init="""
        KEPT = []

        def register(kernel):
            KEPT.append(kernel)  # keeps the kernel to register later: refused
    """)
    kernel = Kernel(paths=[tmp_path], only=[late])
    kernel.start()
    kept = kernel.addon(late).module.KEPT[0]

    @click.command()
    def late_command():
        pass

    for attempt in (lambda: kept.register_blueprint(Blueprint(f"late_{suffix}", __name__)),
                    lambda: kept.register_cli(late_command),
                    lambda: kept.register_permissions({"late.do": ["admin"]}),
                    lambda: kept.register_hooks(__import__("core.menu", fromlist=["menu"])),
                    lambda: kept.add_hookspecs(__import__("core.hookspecs", fromlist=["hookspecs"])),
                    lambda: kept.on_app(lambda app: None)):
        with pytest.raises(KernelFrozen):
            attempt()
    assert "late.do" not in kernel.permissions and kernel.blueprints == [] and kernel.cli_commands == []


def test_a_manifest_is_read_as_data_and_code_in_it_is_never_run(tmp_path, suffix):
    evil = f"evil_{suffix}"
    marker = tmp_path / "ran"
    make_addon(tmp_path / "addons", evil, manifest=(
        f'{{"name": "{evil}", "version": __import__("pathlib").Path(r"{marker}").write_text("ran") and "1.0"}}'))
    with pytest.raises(AddonError, match="manifest"):
        Kernel(paths=[tmp_path / "addons"], only=[evil])
    assert not marker.exists()


@pytest.mark.parametrize("manifest, complaint", [
    ('["not", "a", "dict"]', "dict"),
    ('{"name": "NAME"}', "version"),
    ('{"name": "other_name", "version": "1"}', "folder"),
    ('{"name": "NAME", "version": "1", "depends": "base"}', "depends"),
    ('{"name": "NAME", "version": "1",', "readable"),
])
def test_a_bad_manifest_stops_start_up_with_a_reason(tmp_path, suffix, manifest, complaint):
    name = f"bad_{suffix}"
    make_addon(tmp_path, name, manifest=manifest.replace("NAME", name))
    with pytest.raises(AddonError, match=complaint):
        Kernel(paths=[tmp_path])


def test_two_addons_with_the_same_name_are_refused(tmp_path, suffix):
    twin = f"twin_{suffix}"
    make_addon(tmp_path / "one", twin)
    make_addon(tmp_path / "two", twin)
    with pytest.raises(AddonError, match="Two addons are named") as error:
        Kernel(paths=[tmp_path / "one", tmp_path / "two"], only=[twin])
    assert str(tmp_path / "one") in str(error.value) and str(tmp_path / "two") in str(error.value)


def test_an_addon_without_register_is_refused(tmp_path, suffix):
    lazy = f"lazy_{suffix}"
    make_addon(tmp_path, lazy, init="# forgot register(kernel)\n")
    kernel = Kernel(paths=[tmp_path], only=[lazy])
    with pytest.raises(AddonError, match=f"{lazy} has no register"):
        kernel.start()


def test_unknown_names_in_only_and_missing_folders_are_refused(tmp_path, suffix):
    with pytest.raises(AddonError, match=f"nowhere_{suffix}"):
        Kernel(paths=[tmp_path], only=[f"nowhere_{suffix}"])
    with pytest.raises(AddonError, match="does not exist"):
        Kernel(paths=[tmp_path / "no-such-folder"])


def test_what_addons_register_is_kept_in_load_order(tmp_path, suffix):
    first, second = f"first_{suffix}", f"second_{suffix}"
    registration = """
        import click
        from flask import Blueprint

        def register(kernel):
            name = __name__.rsplit(".", 1)[-1]
            kernel.register_blueprint(Blueprint(name, __name__), url_prefix="/" + name)
            kernel.register_permissions({"shared.read": [name]})
            kernel.register_cli(click.Command(name))
    """
    make_addon(tmp_path, second, depends=[first], init=registration)
    make_addon(tmp_path, first, init=registration)
    kernel = Kernel(paths=[tmp_path], only=[second, first])
    kernel.start()
    assert [bp.name for bp, _ in kernel.blueprints] == [first, second]
    assert kernel.blueprints[0][1] == {"url_prefix": f"/{first}"}
    assert [c.name for c in kernel.cli_commands] == [first, second]
    assert kernel.permissions["shared.read"] == {first, second}
