"""Input validation for the API's path and query parameters, and the opaque pagination cursor."""

from __future__ import annotations

import base64
import binascii
import json
import re

from solders.pubkey import Pubkey

from warehouse.queries import GiftKey

__all__ = [
    "ApiError",
    "check_handle",
    "check_platform",
    "check_post_id",
    "check_pubkey",
    "decode_cursor",
    "encode_cursor",
]

_PLATFORM = re.compile(r"^[a-z0-9_]{1,16}$")
_HANDLE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_POST_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")


class ApiError(Exception):
    """An error answered to the client as JSON {error, message} with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def check_platform(platform: str) -> str:
    if not _PLATFORM.match(platform):
        raise ApiError(400, "invalid_platform", "platform must be 1-16 characters of a-z, 0-9 or _ (e.g. x, youtube)")
    return platform


def check_handle(handle: str) -> str:
    if not _HANDLE.match(handle):
        raise ApiError(400, "invalid_handle", "handle must be 1-32 characters of letters, digits, _, . or -")
    return handle


def check_post_id(post_id: str) -> str:
    if not _POST_ID.match(post_id):
        raise ApiError(400, "invalid_post_id", "post_id must be 1-128 characters of letters, digits, _ . : or -")
    return post_id


def check_pubkey(value: str) -> str:
    try:
        if not _BASE58.match(value):
            raise ValueError(value)
        return str(Pubkey.from_string(value))
    except ValueError:
        raise ApiError(400, "invalid_pubkey", f"{value[:60]!r} is not a base58 32-byte public key") from None


def encode_cursor(key: GiftKey) -> str:
    raw = json.dumps([key.slot, key.signature, key.ix_path, key.event_index], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> GiftKey | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        slot, signature, ix_path, event_index = json.loads(raw)
        if not (isinstance(slot, int) and isinstance(signature, str) and isinstance(ix_path, str)):
            raise ValueError(cursor)
        if not isinstance(event_index, int):
            raise ValueError(cursor)
        return GiftKey(slot, signature, ix_path, event_index)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this API returned; omit it to start over") from None
