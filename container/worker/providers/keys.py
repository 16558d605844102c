"""Model API keys from one Secrets Manager secret, set in the environment where litellm reads them.

The secret holds a JSON object of environment variable names to keys, e.g.
`{"GEMINI_API_KEY": "...", "OPENAI_API_KEY": "..."}`. It is read once per process, at the first
model call, so a run that never calls a model never reads it. No key value is ever put in a
message: the error texts here name the secret and the variables, never what they hold.
"""

import json
import os
import re
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

from worker.aws import SecretReader
from worker.providers.base import ProviderError

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _keys(secret_id: str, response: Any) -> dict[str, str]:
    raw = response.get("SecretString") if isinstance(response, dict) else None
    if not isinstance(raw, str):
        raise ProviderError(f"the model keys secret {secret_id} holds no SecretString")
    try:
        keys = json.loads(raw)
    except json.JSONDecodeError:
        keys = None  # the text may be a bare key: never quote it
    if not isinstance(keys, dict) or not all(
        isinstance(name, str) and ENV_NAME.match(name) and isinstance(value, str)
        for name, value in keys.items()
    ):
        raise ProviderError(
            f"the model keys secret {secret_id} must hold a JSON object of "
            "environment variable names to keys (strings)"
        )
    return keys


class ModelKeys:
    def __init__(
        self,
        secret_id: str,
        connect: Callable[[], SecretReader],
        on_loaded: Callable[[list[str]], None] | None = None,
        environ: MutableMapping[str, str] | None = None,
    ) -> None:
        self.secret_id = secret_id
        self._connect = connect
        self._on_loaded = on_loaded
        self._environ = os.environ if environ is None else environ
        self._values: list[str] = []
        self._loaded = False
        self._lock = threading.Lock()

    def values(self) -> list[str]:
        """The keys loaded so far, so that error messages can be scrubbed of them."""
        return list(self._values)

    def ensure_loaded(self) -> None:
        with self._lock:
            if self._loaded:
                return
            try:
                response = self._connect().get_secret_value(SecretId=self.secret_id)
            except Exception as exc:  # ClientError, BotoCoreError, no credentials alike
                raise ProviderError(
                    f"cannot read the model keys secret {self.secret_id}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            keys = _keys(self.secret_id, response)
            self._environ.update(keys)
            self._values = [value for value in keys.values() if value]
            self._loaded = True
        if self._on_loaded is not None:
            self._on_loaded(sorted(keys))  # the variables' names only
