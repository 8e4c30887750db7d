"""The domain: use cases that validate, change state in one transaction, and raise
domain errors (app.errors). Services never touch the HTTP request."""
