"""The fulfilment area's adapters: DynamoDB behind its ports. Only the composition root
(``orderflow.wiring``) builds them."""
