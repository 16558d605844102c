"""The client's version, sent as its User-Agent."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("jobsched")
except PackageNotFoundError:  # run from a checkout that was never installed
    VERSION = "0"

USER_AGENT = f"jobsched-client/{VERSION}"
