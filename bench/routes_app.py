"""A FastAPI + Mangum app of the same size as ours, with nothing of ours in it: one typed route
per API route (a pydantic model of eight fields in, one out). It separates what the framework
charges per route from what our own modules cost. The route count comes from the environment."""

import os
from datetime import datetime

from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel, create_model

app = FastAPI()
FIELDS = {
    "name": (str, ...),
    "count": (int, 0),
    "ratio": (float, 0.0),
    "flag": (bool, False),
    "when": (datetime | None, None),
    "tags": (list[str], []),
    "extra": (dict[str, str], {}),
    "note": (str | None, None),
}


def _route(index: int) -> None:
    body: type[BaseModel] = create_model(f"Body{index}", **FIELDS)  # type: ignore[call-overload]
    out: type[BaseModel] = create_model(f"Out{index}", **FIELDS)  # type: ignore[call-overload]

    async def endpoint(item: body) -> out:
        return out.model_validate(item.model_dump())

    app.post(f"/r{index}", response_model=out)(endpoint)


for _index in range(int(os.environ.get("BENCH_ROUTES", "40"))):
    _route(_index)

handler = Mangum(app)
