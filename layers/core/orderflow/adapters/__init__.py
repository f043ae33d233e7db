"""DynamoDB and AWS adapters: one per aggregate, plus the workflow and event-bus ports."""
