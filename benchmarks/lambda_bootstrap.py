"""Figure 1's child (benchmarks/coldstart.py): import a module the way Lambda's Python runtime imports a handler.

Lambda's Python runtimes start awslambdaric, whose documented entry point is ``python -m awslambdaric HANDLER``.
In awslambdaric 4.2.2 (PyPI) that runs ``__main__.main(sys.argv)`` -> ``bootstrap.run(handler, client)`` ->
``bootstrap._get_handler(handler)`` -> ``importlib.import_module(modname)``, and ``run`` then calls
``handle_event_request``, which calls the handler. Under ``python -m`` the interpreter runs runpy's
``_run_module_as_main`` and ``_run_code`` first, so ``import_module`` is the seventh Python frame:

    runpy._run_module_as_main > runpy._run_code > <module> > main > run > _get_handler > importlib.import_module

This module is run the same way (``python -S -m lambda_bootstrap MODULE CODE``) with the same chain, so every case of
figure 1, a function or its floor, imports at the depth a Lambda handler does. CPython keeps frames in 16 KiB chunks
and a busy import that runs across a chunk's end pays page faults a call deeper or shallower would not
(docs/decisions.md, "Cold start"): the depth is Lambda's, not one picked for its figure. ``CODE`` (create the clients,
call the handler, report) runs next, one call below ``run``, where ``handle_event_request`` runs, with the imported
module bound to its name. The runtime's own work (the Runtime API client, logging set-up) is not reproduced:
the floor would pay it alike.
"""

import importlib
import sys


def _get_handler(modname):
    return importlib.import_module(modname)


def run(modname, code):
    module = _get_handler(modname)
    exec(code, {"__name__": "__lambda__", modname: module})


def main(args):
    run(args[1], args[2])


if __name__ == "__main__":
    main(sys.argv)
