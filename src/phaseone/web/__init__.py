"""The trial service over HTTP: a JSON API under /api/v1 (FastAPI) with its OpenAPI document."""
