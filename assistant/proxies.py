"""Who the client is: the peer address, or what a configured proxy says it forwarded for.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the peer
is one of the operator's proxies (``ASSISTANT_TRUSTED_PROXIES``: addresses, networks, or
``unix`` for a proxy on a Unix socket; default none). The list is read right to left, each
proxy appending the address it saw: the client is the right-most address that is not a
trusted proxy. Anything to the left of it was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

UNIX = "unix"  # the peer of a Unix-socket connection has no address


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    unix: bool = False

    @classmethod
    def parse(cls, text: str) -> "TrustedProxies":
        """``"127.0.0.1, 10.0.0.0/8, unix"``; raises ValueError with the entry that is not an address."""
        networks, unix = [], False
        for part in (p.strip() for p in (text or "").split(",")):
            if not part:
                continue
            if part.lower() == UNIX:
                unix = True
                continue
            networks.append(ipaddress.ip_network(part, strict=False))
        return cls(tuple(networks), unix)

    def __bool__(self) -> bool:
        return bool(self.networks) or self.unix

    def trusts(self, address: str | None) -> bool:
        if not address or address == UNIX:
            return self.unix
        try:
            ip = ipaddress.ip_address(address.strip().strip("[]"))
        except ValueError:
            return False
        return any(ip in net for net in self.networks)


def _entry(text: str) -> str:
    """One X-Forwarded-For entry as an address: ``1.2.3.4:5678`` and ``[::1]:80`` lose the port."""
    text = text.strip().strip('"')
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def client_address(peer: str | None, forwarded_for: str, trusted: TrustedProxies) -> str:
    """The client's address for logs, limits and the audit log (at most 64 characters)."""
    address = peer or UNIX
    if not trusted.trusts(address) or not forwarded_for:
        return address[:64]
    for hop in reversed([e for e in (_entry(p) for p in forwarded_for.split(",")) if e]):
        address = hop
        if not trusted.trusts(hop):
            break
    return address[:64]


def client_of(request) -> str:
    """The client's address on a request (Starlette's or gradio's), as the server's Guard set it
    from the peer and the trusted proxies; "local" where there is none (a call from the CLI)."""
    client = getattr(request, "client", None) if request is not None else None
    return ((getattr(client, "host", None) if client else None) or "local")[:64]
