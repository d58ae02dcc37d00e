"""Load the application without the cyclic garbage collector, then keep what it loaded out of it.

Importing the app makes a few hundred thousand objects (classes, functions, schemas,
routes) that live as long as the process. While they are being made, the collector walks
them again and again, about a tenth of a cold start; afterwards every full collection
walks them once more, which a request waiting on the event loop pays for. Pausing it for
the import and then freezing what exists (`gc.freeze`) spares both: later collections
look only at objects made after start-up.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the collector off; then freeze every object alive and turn it back on.

    The collector is turned back on only if it was on before, so a caller that keeps it
    off for its own reasons keeps it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
