"""Password hashing for the back office: scrypt through werkzeug.security, one module."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD)


def check_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches. An unknown account or one without a password is
    checked against a stand-in hash, so that the answer takes as long as for a wrong password
    and does not tell which accounts exist."""
    if not stored_hash:
        check_password_hash(_stand_in(), password)
        return False
    return check_password_hash(stored_hash, password)


@cache
def _stand_in() -> str:
    return generate_password_hash("bihuan-no-such-account", method=METHOD)
