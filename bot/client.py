"""The client's address behind the configured number of trusted reverse proxies."""

from __future__ import annotations

from flask import Request


def client_address(request: Request, proxy_hops: int) -> str:
    """The address ``proxy_hops`` entries from the end of X-Forwarded-For (the one the nearest
    trusted proxy saw), else the connection's own address."""
    forwarded = [
        part.strip()
        for part in request.headers.get("X-Forwarded-For", "").split(",")
        if part.strip()
    ]
    if proxy_hops and len(forwarded) >= proxy_hops:
        return forwarded[-proxy_hops]
    return request.remote_addr or "unknown"
