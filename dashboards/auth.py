"""Who may see what: admins log in with a password (stored as a scrypt hash), creators by signing a nonce
with their wallet (ed25519) or, in the demo, with a one-time link. The session (a signed cookie) holds the
role and, for a creator, the creator's PDA: pages read the creator from the session, never from the URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import nacl.exceptions
import nacl.signing
from solders.pubkey import Pubkey

__all__ = ["LinkError", "hash_password", "make_link_token", "read_link_token", "sign_in_message", "verify_password",
           "verify_wallet_signature"]  # fmt: skip


class LinkError(Exception):
    """A login link that is malformed, forged, expired or used already."""


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**14, r=8, p=1)
    return f"scrypt${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, _ = stored.split("$", 2)
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(hash_password(password, salt), stored)


def make_link_token(secret: str, creator: str, ttl_s: int, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl_s)
    nonce = secrets.token_hex(6)
    body = f"{creator}.{expires}.{nonce}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{body}.{mac}".encode()).decode().rstrip("=")


def read_link_token(secret: str, token: str, used: set[str], now: float | None = None) -> str:
    """The creator a link logs in; each link works once."""
    try:
        creator, expires, nonce, mac = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(".")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LinkError("malformed link") from exc
    body = f"{creator}.{expires}.{nonce}"
    if not hmac.compare_digest(mac, hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]):
        raise LinkError("forged link")
    if int(expires) < (now or time.time()):
        raise LinkError("expired link")
    if nonce in used:
        raise LinkError("this link was used already")
    used.add(nonce)
    return creator


def sign_in_message(nonce: str) -> bytes:
    return f"Sign in to MEMEFANS: {nonce}".encode()


def verify_wallet_signature(pubkey: str, nonce: str, signature: bytes) -> bool:
    try:
        key = nacl.signing.VerifyKey(bytes(Pubkey.from_string(pubkey)))
        key.verify(sign_in_message(nonce), signature)
    except (ValueError, nacl.exceptions.BadSignatureError):
        return False
    return True
