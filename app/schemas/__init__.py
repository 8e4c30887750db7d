"""marshmallow schemas: the single source of request validation, responses and OpenAPI."""
