from tests.web.service_fixtures import database, service

__all__ = ["database", "service"]
