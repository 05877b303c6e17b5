from tests.web.page_client import pages
from tests.web.service_fixtures import database, journey, service

__all__ = ["database", "journey", "pages", "service"]
