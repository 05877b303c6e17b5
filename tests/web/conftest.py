from service_fixtures import database, journey, service

__all__ = ["database", "journey", "service"]
