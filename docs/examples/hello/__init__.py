"""hello: an example addon. Load it with ``KONTOR_ADDONS=docs/examples python run.py``.

Everything an addon adds is declared here, in ``register(kernel)``; after start-up the kernel is frozen.
"""
from . import hooks, views


def register(kernel):
    kernel.register_permissions({"hello.view": ["admin", "back_office", "bookkeeper", "technician"]})
    kernel.register_hooks(hooks)          # menu entry, dashboard tile, command line
    kernel.register_blueprint(views.bp)   # the /hello page
