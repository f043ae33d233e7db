"""Orderflow's performance and cost figures: ``python -m benchmarks`` measures them and rewrites BENCHMARKS.md.

Sections (``python -m benchmarks SECTION ...`` runs only those; the others keep their last results):

- ``coldstart``  fresh-interpreter import of each handler vs the floor (boto3 + the function's clients)
- ``calls``      DynamoDB calls and Step Functions transitions per order on the happy path, handler durations
- ``cost``       modeled AWS cost per 1,000 orders (from ``calls``; a pure model, see :mod:`benchmarks.cost`)
- ``sizes``      package sizes from ``sam build`` output (``make build`` first)
- ``throughput`` orders per second through the offline stack, N = 1, 4, 16 clients, and a profile

``cost`` is recomputed whenever ``calls`` runs. ``make bench`` runs them all (about 6 minutes on the
2-core dev machine) and never builds: ``sizes`` reports "run make build first" until ``make build`` has
made ``.aws-sam/build``. ``benchmarks.forecasting`` (the forecasting library's accuracy) runs on its own.

Each section stores its numbers in ``benchmarks/results/<section>.json`` (with the command, date and
machine that made them); BENCHMARKS.md is rendered from those files. Timings never go into tests.
"""
