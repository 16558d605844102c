"""No webhook URL with credentials or a query reaches a log: httpx's request lines are
redacted to scheme, host, port and path."""

import logging

import pytest

from jobsched.webhooks.sender import RedactUrls, redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com/done?token=s3cret", "https://hooks.example.com/done"),
        ("https://u:pw@hooks.example.com:8443/x#frag", "https://hooks.example.com:8443/x"),
        ("http://[2001:db8::1]:80/h?k=v", "http://[2001:db8::1]:80/h"),
        ("http://93.184.216.34/plain", "http://93.184.216.34/plain"),
    ],
)
def test_a_url_is_shown_without_its_secrets(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_httpxs_request_line_loses_the_query() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s %d %s"',
        ("POST", "https://hooks.example.com/x?token=s3cret", "HTTP/1.1", 200, "OK"),
        None,
    )
    assert RedactUrls().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "https://hooks.example.com/x" in record.getMessage()
    assert any(isinstance(f, RedactUrls) for f in logging.getLogger("httpx").filters)
