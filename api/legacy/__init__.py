"""The legacy job API (v1): the old /jobs/* routes, unprefixed and under /api/v1, served by the
scheduler and marked deprecated on every response."""

from api.legacy.routes import router

PREFIXES = ("", "/api/v1")  # phase 1 kept the old paths; Option A names them v1

__all__ = ["PREFIXES", "router"]
