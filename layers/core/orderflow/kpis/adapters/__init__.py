"""The KPI area's adapter: its DynamoDB table. Only the composition root (``orderflow.wiring``) builds it."""
