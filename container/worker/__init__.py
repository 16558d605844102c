"""The job image's worker: runs one workload for one dispatch unit, then exits with its code.

Standard library and boto3 only: the image installs nothing else, and the worker must never
need the scheduler's own packages (jobsched, pydantic, FastAPI).
"""
