"""The returns area's adapters: DynamoDB, SQS and Step Functions behind its ports. Only the composition
root (``orderflow.wiring``) builds them."""
