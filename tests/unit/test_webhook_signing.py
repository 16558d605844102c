"""The signature scheme: what a sender signs is what a receiver verifies, and nothing else."""

import hashlib
import hmac

import pytest

from jobsched.webhooks import sign, signature_headers, verify

BODY = b'{"event":"group.finished","group_id":"grp_1"}'
SECRET = "whsec_test"
NOW = 1_700_000_000


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, NOW) == expected


def test_headers_round_trip() -> None:
    headers = signature_headers(BODY, SECRET, NOW)
    assert headers["X-Jobsched-Timestamp"] == str(NOW)
    assert headers["X-Jobsched-Signature"].startswith("v1=")
    assert verify(
        BODY, SECRET, headers["X-Jobsched-Timestamp"], headers["X-Jobsched-Signature"], now=NOW
    )


@pytest.mark.parametrize(
    ("body", "secret", "timestamp"),
    [
        (BODY + b" ", SECRET, NOW),  # body changed
        (BODY.replace(b"grp_1", b"grp_2"), SECRET, NOW),
        (BODY, "another-secret", NOW),  # wrong secret
        (BODY, SECRET, NOW + 1),  # timestamp changed (it is signed)
    ],
)
def test_tampering_is_detected(body: bytes, secret: str, timestamp: int) -> None:
    signature = f"v1={sign(BODY, SECRET, NOW)}"
    assert not verify(body, secret, timestamp, signature, now=NOW)


@pytest.mark.parametrize(
    "signature",
    ["", "v1=", "v0=" + "0" * 64, sign(BODY, SECRET, NOW), "v1=é", "v1=" + "0" * 64],
)
def test_malformed_signatures_fail(signature: str) -> None:
    assert not verify(BODY, SECRET, NOW, signature, now=NOW)


def test_one_of_several_signatures_is_enough() -> None:
    """During a secret rotation a header may carry a signature per secret."""
    header = f"v1={sign(BODY, 'old', NOW)}, v1={sign(BODY, SECRET, NOW)}"
    assert verify(BODY, SECRET, NOW, header, now=NOW)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (299, True), (300, True), (301, False), (-300, True), (-301, False)],
)
def test_timestamp_tolerance(age: int, accepted: bool) -> None:
    signature = f"v1={sign(BODY, SECRET, NOW)}"
    assert verify(BODY, SECRET, NOW, signature, now=NOW + age) is accepted


def test_tolerance_is_configurable_and_timestamp_must_be_an_integer() -> None:
    signature = f"v1={sign(BODY, SECRET, NOW)}"
    assert verify(BODY, SECRET, NOW, signature, now=NOW + 3600, tolerance=3600)
    assert not verify(BODY, SECRET, "not-a-number", signature, now=NOW)
