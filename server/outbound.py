"""Calls this service makes to URLs others chose (webhooks, push endpoints): the one rule.

https:// anywhere but link-local; http:// only to a loopback host while BASE_URL is itself
http:// (a developer's machine, tests). Link-local addresses (169.254.0.0/16 and fe80::/10,
where cloud metadata services live), unspecified and multicast addresses are always refused,
as literals when the URL is registered and as resolved addresses before each call.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from server.errors import InvalidInput
from server.settings import Settings

# --- the URL rule --------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def forbidden_address(address: str) -> bool:
    """Link-local (169.254.0.0/16, fe80::/10: cloud metadata lives there), unspecified and
    multicast addresses are never called."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast


def check_url(settings: Settings, url: str) -> str:
    """https:// anywhere but link-local; http:// only to a loopback host while BASE_URL is
    http:// itself (a developer's machine, tests)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise InvalidInput("That is not a URL.", code="invalid_url",
                           extra={"field": "url"}) from None
    if not host or parts.scheme not in ("https", "http"):
        raise InvalidInput("A webhook URL starts with https://.", code="invalid_url",
                           extra={"field": "url"})
    if forbidden_address(host) or host == "metadata.google.internal":
        raise InvalidInput("Link-local and metadata addresses are refused.",
                           code="forbidden_address", extra={"field": "url"})
    if parts.scheme == "http" and not (
            _is_loopback(host) and settings.base_url.startswith("http://")):
        raise InvalidInput("A webhook URL must use https:// (http:// only to this machine "
                           "while the service itself runs on http://).", code="invalid_url",
                           extra={"field": "url"})
    if parts.username or parts.password:
        raise InvalidInput("Put no credentials in the URL; check the signature instead.",
                           code="invalid_url", extra={"field": "url"})
    return url


