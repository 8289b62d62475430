"""Signed, expiring rating links (评价链接), made with `web.secret_key`.

- A business link (`?b=`) names one business record; the business system sends it to the
  customer (`bihuan business link`).
- A ticket link (`?t=`) names one ticket and its customer; it goes to that customer with the
  result of their complaint (`jobs.messages`), so that a ticket's rating on `/rate` comes only
  from whoever received the result (PRODUCT §7). Without it, `/rate` rates the service in
  general.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

BUSINESS_SALT = "bihuan-rate-link"
TICKET_SALT = "bihuan-rate-ticket"


class LinkExpired(Exception):
    """The link was genuine but is past its validity."""


class LinkInvalid(Exception):
    """The link was not made by us, or was changed."""


def business_link(base_url: str, secret: str, record_id: int) -> str:
    token = URLSafeTimedSerializer(secret, salt=BUSINESS_SALT).dumps(record_id)
    return f"{base_url.rstrip('/')}/rate?b={token}"


def ticket_link(base_url: str, secret: str, ticket_id: int, customer_id: int) -> str:
    token = URLSafeTimedSerializer(secret, salt=TICKET_SALT).dumps([ticket_id, customer_id])
    return f"{base_url.rstrip('/')}/rate?t={token}"


def read_business_token(token: str, secret: str, max_age_seconds: int) -> int:
    value = _load(token, secret, BUSINESS_SALT, max_age_seconds)
    if not isinstance(value, int):
        raise LinkInvalid(token)
    return value


def read_ticket_token(token: str, secret: str, max_age_seconds: int) -> tuple[int, int]:
    """(ticket id, customer id) of a ticket link."""
    value = _load(token, secret, TICKET_SALT, max_age_seconds)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise LinkInvalid(token)
    return value[0], value[1]


def _load(token: str, secret: str, salt: str, max_age_seconds: int):
    try:
        return URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkExpired(token) from exc
    except BadSignature as exc:
        raise LinkInvalid(token) from exc
