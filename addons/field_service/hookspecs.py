"""The hooks field_service emits. Called with keywords inside the transaction of the change they report:
implementations may add and flush rows, never commit; raising aborts the change (nothing is kept)."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def field_service_order_done(order):
    """``order`` (a ``field_service.models.ServiceOrder``) moved in_progress -> done: its report, time entries
    and parts are final for the technician; the back office may now review and invoice it."""
