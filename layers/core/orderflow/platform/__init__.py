"""AWS and Lambda plumbing every area's adapters and the handlers share: clients, DynamoDB requests,
Step Functions starts, Powertools observability and the HTTP error body."""
