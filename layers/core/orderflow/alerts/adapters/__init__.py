"""The alerts area's adapters: the alerts table, SNS and the dead-letter queues. Only the composition root
(``orderflow.wiring``) builds them."""
