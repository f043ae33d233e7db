"""Orderflow's domain: models, order rules, stock and credit, and the DynamoDB adapters behind them.

Nothing here knows about Lambda events; handlers in ``functions/`` translate events into calls of
:mod:`orderflow.service`.
"""
