"""The address guard: webhooks go to public http(s) hosts only, unless a setting allows more."""

import socket
from typing import Any

import pytest

from jobsched.errors import ValidationFailedError
from jobsched.settings import Settings
from jobsched.webhooks import check_webhook_url, resolve_target
from jobsched.webhooks.addresses import HostNotResolvedError

PUBLIC = "93.184.215.14"  # a public address (example.com's, at some point)


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Host names resolve to `answers`; IP literals resolve to themselves."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


FORBIDDEN = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://[::1]/hook",
    "http://10.0.0.5/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",  # the instance metadata service
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",  # ULA, fc00::/7
    "http://[fd12:3456::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",  # reserved
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
    "http://[64:ff9b::a00:1]/hook",  # NAT64 wrapping 10.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 as one integer
    "http://internal.example/hook",  # resolves to a private address (fake DNS below)
    "http://mixed.example/hook",  # one public, one private address: every one is checked
    "http://metadata.example/hook",  # resolves to the metadata address
]


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(
        monkeypatch,
        {
            "internal.example": ["192.168.0.7"],
            "mixed.example": [PUBLIC, "10.1.2.3"],
            "metadata.example": ["169.254.169.254"],
            "public.example": [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        },
    )


@pytest.mark.parametrize("url", FORBIDDEN)
def test_forbidden_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        check_webhook_url(url, allow_private=False)
    assert caught.value.problems[0].field == "webhook_url"


@pytest.mark.parametrize("url", FORBIDDEN)
def test_the_setting_allows_them(url: str) -> None:
    check_webhook_url(url, allow_private=True)


def test_the_default_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobsched import settings as settings_module

    monkeypatch.setattr(settings_module, "get_settings", lambda: Settings())
    with pytest.raises(ValidationFailedError):
        check_webhook_url("http://127.0.0.1/hook")
    monkeypatch.setattr(
        settings_module, "get_settings", lambda: Settings(webhook_allow_private=True)
    )
    check_webhook_url("http://127.0.0.1/hook")


def test_the_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().webhook_allow_private is False
    monkeypatch.setenv("JOBSCHED_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("JOBSCHED_WEBHOOK_SECRET", "s3cret")
    settings = Settings()
    assert settings.webhook_allow_private is True
    assert settings.webhook_secret is not None
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    "url",
    [
        "https://public.example/hooks/batch?token=abc",
        f"http://{PUBLIC}:8443/hook",
        "https://PUBLIC.example./hook",
    ],
)
def test_public_hosts_pass(url: str) -> None:
    check_webhook_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://public.example/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://public.example/", "http or https"),
        ("public.example/hook", "http or https"),
        ("https://user:pass@public.example/hook", "credentials"),
        ("https://user@public.example/hook", "credentials"),
        ("https:///hook", "no host"),
        ("https://public.example:99999/hook", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused_even_when_private_is_allowed(url: str, message: str) -> None:
    with pytest.raises(ValidationFailedError, match=message):
        check_webhook_url(url, allow_private=True)


def test_an_unknown_host_is_refused_and_marked_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(HostNotResolvedError, match="does not resolve"):
        check_webhook_url("https://nowhere.example/hook", allow_private=False)


def test_the_target_is_pinned_to_a_checked_address() -> None:
    target = resolve_target("https://public.example/hooks/batch?token=abc", allow_private=False)
    assert str(target.address) == PUBLIC
    assert target.pinned_url() == f"https://{PUBLIC}:443/hooks/batch?token=abc"
    assert target.host_header == "public.example"
    v6_url = "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8080/x"
    v6 = resolve_target(v6_url, allow_private=False)
    assert v6.pinned_url() == "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8080/x"
    assert v6.host_header == "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8080"
