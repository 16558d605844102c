"""The HTTP edge: FastAPI app factory, routers, schemas and the error mapping. No logic."""
