"""Lambda entry points of the dispatcher and the schedules: each parses its event, calls one
jobsched use case and returns. None imports FastAPI (the API's own entry is api/handler.py)."""
