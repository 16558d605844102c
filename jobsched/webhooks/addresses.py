"""Where a webhook may go: http(s) URLs without credentials whose host resolves only to public
addresses, unless the `webhook_allow_private` setting says otherwise.

Sending is pinned to the address checked here (`WebhookTarget.address`), so a DNS answer that
changes between the check and the connection (rebinding) cannot redirect the request.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from jobsched.errors import ValidationFailedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_FIELD = "webhook_url"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the last 32 bits are an IPv4 address


class HostNotResolvedError(ValidationFailedError):
    """The host has no address now; unlike a refused address, worth retrying when sending."""


@dataclass(frozen=True)
class WebhookTarget:
    """A checked URL and the one address the request will connect to."""

    url: str
    scheme: str
    host: str  # as written in the URL (lower case, IPv6 without brackets)
    port: int
    address: IPAddress

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (Host header and TLS server
        name stay the original host; the sender sets them)."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return parts._replace(netloc=f"{ip}:{self.port}").geturl()


def forbidden_reason(address: IPAddress) -> str | None:
    """Why an address is no place for a webhook, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),  # includes 169.254.169.254, the metadata service
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),  # RFC 1918, ULA (fc00::/7) and other special ranges
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),  # shared 100.64/10, documentation, ...
    )
    return next((reason for failed, reason in checks if failed), None)


def check_webhook_url(
    url: str, *, allow_private: bool | None = None, unresolved_ok: bool = False
) -> None:
    """Raise ValidationFailedError on `webhook_url` (a 422) unless a webhook may go to `url`.

    `allow_private` defaults to the `webhook_allow_private` setting. The host is resolved, so an
    unknown host fails here too, unless `unresolved_ok` (a group's URL at its creation: its
    name may resolve by the time the group ends); sending checks again, as DNS may change.
    """
    try:
        resolve_target(url, allow_private=allow_private)
    except HostNotResolvedError:
        if not unresolved_ok:
            raise


def resolve_target(url: str, *, allow_private: bool | None = None) -> WebhookTarget:
    """Check `url`, resolve its host, check every address and pick the one to connect to."""
    if allow_private is None:
        from jobsched.settings import get_settings

        allow_private = get_settings().webhook_allow_private
    parts, host, port = _parse(url)
    addresses = _resolve(host, port)
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise ValidationFailedError.on(
                    _FIELD, f"{host} resolves to {address}, a {reason} address"
                )
    return WebhookTarget(url, parts.scheme.lower(), host, port, addresses[0])


def _parse(url: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationFailedError.on(_FIELD, f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValidationFailedError.on(_FIELD, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailedError.on(_FIELD, "must not carry credentials (user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationFailedError.on(_FIELD, "has no host")
    try:
        host = host.encode("idna").decode("ascii")  # the Host header and DNS take ASCII only
    except UnicodeError as exc:
        raise ValidationFailedError.on(_FIELD, f"not a valid host name: {host}") from exc
    return parts, host, port or _DEFAULT_PORTS[scheme]


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostNotResolvedError.on(_FIELD, f"host {host} does not resolve") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the zone is not part of the address.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotResolvedError.on(_FIELD, f"host {host} does not resolve")
    return addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside a mapped, 6to4, Teredo or NAT64 IPv6 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
