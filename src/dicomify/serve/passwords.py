"""Password hashes for ``[auth.users]``: scrypt (RFC 7914) from the standard library.

A hash reads ``scrypt$N$r$p$SALT$KEY`` (salt and key in URL-safe base64), so the
cost can be raised later without breaking the hashes already written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["check_hash", "hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1  # about 16 MB and 50 ms per check: slow for guessing, fine for a login
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password`` for the configuration file.

    Parameters
    ----------
    password : str
        The password in clear.

    Returns
    -------
    str
        ``scrypt$N$r$p$SALT$KEY``.
    """
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def _parse(hashed: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = hashed.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or n * r > 2**24 or len(salt) < 8 or not key:
        return None
    return n, r, p, salt, key


def check_hash(hashed: str) -> bool:
    """True when ``hashed`` is a hash :func:`verify_password` can use."""
    return _parse(hashed) is not None


def verify_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches ``hashed`` (compared in constant time)."""
    parsed = _parse(hashed)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    candidate = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=max(_MAXMEM, 256 * n * r), dklen=len(key)
    )
    return hmac.compare_digest(candidate, key)
