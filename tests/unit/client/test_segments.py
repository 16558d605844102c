"""An id goes into a URL as one path segment: nothing in it reaches another route."""

import pytest

from jobsched_client import EmptyIdError
from jobsched_client._sync.client import api_base, segment


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("j_123", "j_123"),
        ("a/b", "a%2Fb"),
        ("../x", "..%2Fx"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("what?now", "what%3Fnow"),
        ("a#b", "a%23b"),
        ("a b%", "a%20b%25"),
        ("é", "%C3%A9"),
    ],
)
def test_segment_quotes_what_would_leave_the_segment(value: str, quoted: str) -> None:
    assert segment(value) == quoted


def test_an_empty_id_is_refused_before_any_call() -> None:
    # `jobs/` would be the list of jobs, answered as if it were one.
    with pytest.raises(EmptyIdError):
        segment("")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/api/v2",
        " http://127.0.0.1:8000/api/v2/ ",
    ],
)
def test_api_base_ends_in_the_api_prefix_once(url: str) -> None:
    assert api_base(url) == "http://127.0.0.1:8000/api/v2"
