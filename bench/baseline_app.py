"""The smallest FastAPI app behind Mangum: the cold-start floor `api.handler` is compared with."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()
handler = Mangum(app)
