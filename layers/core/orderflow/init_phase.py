"""A function's init phase without garbage collection: import this module first, call :func:`ready` last.

Importing pydantic, Powertools and the domain allocates a few hundred thousand objects, and CPython's
collector, counting them, runs full collections over everything loaded so far while the handler's
modules load: about 35 ms of a step function's cold start here (benchmarks/coldstart.py). Nearly all of
those objects live as long as the sandbox (modules, classes, pydantic's validators), so scanning them
finds nothing. Importing this module turns the collector off; :func:`ready` moves every object that
exists then into the permanent generation (``gc.freeze``), which later collections skip, and turns
the collector back on for the invocations.

The cost: cyclic garbage made while the modules load is never freed (a bounded amount, once per
sandbox). A module that fails to import leaves the collector off, which on Lambda ends the sandbox.
"""

import gc

gc.disable()


def ready() -> None:
    """The handler's module-level objects are built: keep them out of later collections, collect again."""
    gc.freeze()
    gc.enable()
