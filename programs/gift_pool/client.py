"""Python client of the gift pool program: PDA derivation and an instruction builder for every instruction.

Builders return `solders.instruction.Instruction`s whose data is the Anchor wire format
(sha256("global:<name>")[:8] || borsh(args)) and whose accounts are in the order the program reads them
(idl.json lists the same order). Nothing here talks to a cluster: callers sign and send.

Handles are keyed case-insensitively: key = sha256(platform + ":" + lowercase(handle)), where lowercase
is ASCII only (the program accepts printable ASCII handles, so every language agrees on it).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

__all__ = [
    "ASSOCIATED_TOKEN_PROGRAM_ID",
    "ERRORS",
    "HANDLE_MAX",
    "MAX_FEE_BPS",
    "MEMO_MAX",
    "PLATFORM_MAX",
    "POST_ID_MAX",
    "PROGRAM_DIR",
    "PROGRAM_ID",
    "SO_PATH",
    "SYSTEM_PROGRAM_ID",
    "TOKEN_PROGRAM_ID",
    "ClientError",
    "Gift",
    "associated_token_address",
    "batch_gift_ix",
    "batch_withdraw_ix",
    "bind_creator_ix",
    "config_pda",
    "create_vault_ix",
    "creator_pda",
    "discriminator",
    "gift_sol_ix",
    "gift_token_ix",
    "handle_key",
    "initialize_ix",
    "load_program_keypair",
    "register_creator_ix",
    "set_admin_ix",
    "set_fee_ix",
    "set_paused_ix",
    "set_verifier_ix",
    "withdraw_ix",
    "withdraw_token_ix",
]

PROGRAM_DIR = Path(__file__).resolve().parent
SO_PATH = PROGRAM_DIR / "gift_pool.so"
KEYPAIR_PATH = PROGRAM_DIR / "program-keypair.json"

SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")

PLATFORM_MAX = 16
HANDLE_MAX = 32
MEMO_MAX = 64
POST_ID_MAX = 64
MAX_FEE_BPS = 1000

# Error number -> name, as the program logs them (idl.json "errors" holds the same list with messages).
ERRORS: dict[int, str] = {
    6000: "Unauthorized",
    6001: "Paused",
    6002: "InvalidAmount",
    6003: "Overflow",
    6004: "HandleTooLong",
    6005: "NotBound",
    6006: "InsufficientFunds",
    6007: "FeeTooHigh",
    6008: "InvalidAccount",
    6009: "InvalidPlatform",
    6010: "InvalidHandle",
    6011: "MemoTooLong",
    6012: "PostIdTooLong",
    6013: "DuplicateCreator",
    6014: "BatchMismatch",
    6015: "AlreadyInitialized",
}


class ClientError(ValueError):
    """Arguments the program would reject, caught before a transaction is built."""


def load_program_keypair(path: Path = KEYPAIR_PATH) -> Keypair:
    """The committed development keypair of the program (a JSON array of 64 bytes, Solana CLI format)."""
    return Keypair.from_bytes(bytes(json.loads(path.read_text())))


PROGRAM_ID: Pubkey = load_program_keypair().pubkey()


def discriminator(namespace: str, name: str) -> bytes:
    """Anchor's 8-byte discriminator: sha256("<namespace>:<name>")[:8]."""
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


# ---- borsh ----
def _u8(v: int) -> bytes:
    return struct.pack("<B", v)


def _u16(v: int) -> bytes:
    return struct.pack("<H", v)


def _u64(v: int) -> bytes:
    if not 0 <= v < 2**64:
        raise ClientError(f"{v} does not fit in a u64")
    return struct.pack("<Q", v)


def _string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<I", len(raw)) + raw


def _ix(name: str, args: bytes, accounts: Sequence[AccountMeta], program_id: Pubkey) -> Instruction:
    return Instruction(program_id, discriminator("global", name) + args, list(accounts))


def _w(key: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=True)


def _r(key: Pubkey, signer: bool = False) -> AccountMeta:
    return AccountMeta(key, is_signer=signer, is_writable=False)


# ---- names and PDAs ----
def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def check_names(platform: str, handle: str) -> None:
    """Raises ClientError for a platform or handle the program would reject."""
    if not 0 < len(platform) <= PLATFORM_MAX or not all(
        c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in platform
    ):
        raise ClientError(f"platform {platform!r} must be 1-{PLATFORM_MAX} characters of a-z, 0-9, _")
    if len(handle.encode()) > HANDLE_MAX:
        raise ClientError(f"handle {handle!r} is longer than {HANDLE_MAX} bytes")
    if not handle or not all(0x20 < ord(c) < 0x7F and c != ":" for c in handle):
        raise ClientError(f"handle {handle!r} must be printable ASCII without spaces or ':'")


def handle_key(platform: str, handle: str) -> bytes:
    """sha256(platform + ":" + lowercase(handle)): the creator's identity on chain."""
    return hashlib.sha256(f"{platform}:{_ascii_lower(handle)}".encode()).digest()


def config_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return Pubkey.find_program_address([b"config"], program_id)[0]


def creator_pda(platform: str, handle: str, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return Pubkey.find_program_address([b"creator", handle_key(platform, handle)], program_id)[0]


def associated_token_address(owner: Pubkey, mint: Pubkey) -> Pubkey:
    return Pubkey.find_program_address(
        [bytes(owner), bytes(TOKEN_PROGRAM_ID), bytes(mint)], ASSOCIATED_TOKEN_PROGRAM_ID
    )[0]


# ---- instructions ----
def initialize_ix(
    admin: Pubkey, verifier: Pubkey, treasury: Pubkey, fee_bps: int, program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """Creates the config PDA; the admin signs and pays."""
    if not 0 <= fee_bps <= MAX_FEE_BPS:
        raise ClientError(f"fee_bps {fee_bps} is above {MAX_FEE_BPS}")
    args = bytes(verifier) + bytes(treasury) + _u16(fee_bps)
    accounts = [_w(config_pda(program_id)), _w(admin, True), _r(SYSTEM_PROGRAM_ID)]
    return _ix("initialize", args, accounts, program_id)


def register_creator_ix(platform: str, handle: str, payer: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    """Creates the creator PDA of (platform, handle); anyone may pay for it."""
    check_names(platform, handle)
    accounts = [
        _w(config_pda(program_id)),
        _w(creator_pda(platform, handle, program_id)),
        _w(payer, True),
        _r(SYSTEM_PROGRAM_ID),
    ]
    return _ix("register_creator", _string(platform) + _string(handle), accounts, program_id)


def bind_creator_ix(
    platform: str, handle: str, authority: Pubkey, verifier: Pubkey, program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """The verifier binds the handle to the creator's wallet (again for a rebind)."""
    accounts = [_r(config_pda(program_id)), _w(creator_pda(platform, handle, program_id)), _r(verifier, True)]
    return _ix("bind_creator", bytes(authority), accounts, program_id)


def _check_gift(amount: int, post_id: str, memo: str) -> bytes:
    if amount <= 0:
        raise ClientError("the amount must be greater than zero")
    if len(post_id.encode()) > POST_ID_MAX:
        raise ClientError(f"post_id is longer than {POST_ID_MAX} bytes")
    if len(memo.encode()) > MEMO_MAX:
        raise ClientError(f"memo is longer than {MEMO_MAX} bytes")
    return _u64(amount) + _string(post_id) + _string(memo)


def gift_sol_ix(
    fan: Pubkey,
    platform: str,
    handle: str,
    amount: int,
    post_id: str,
    memo: str,
    treasury: Pubkey,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """The fan gifts `amount` lamports (gross; the fee goes to the treasury)."""
    accounts = [
        _r(config_pda(program_id)),
        _w(creator_pda(platform, handle, program_id)),
        _w(fan, True),
        _w(treasury),
        _r(SYSTEM_PROGRAM_ID),
    ]
    return _ix("gift_sol", _check_gift(amount, post_id, memo), accounts, program_id)


def create_vault_ix(
    payer: Pubkey, platform: str, handle: str, mint: Pubkey, program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """Creates the creator's token vault (its associated token account) if missing: CreateIdempotent."""
    return create_ata_idempotent_ix(payer, creator_pda(platform, handle, program_id), mint)


def create_ata_idempotent_ix(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> Instruction:
    """The Associated Token Account program's CreateIdempotent (instruction 1)."""
    accounts = [
        _w(payer, True),
        _w(associated_token_address(owner, mint)),
        _r(owner),
        _r(mint),
        _r(SYSTEM_PROGRAM_ID),
        _r(TOKEN_PROGRAM_ID),
    ]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM_ID, bytes([1]), accounts)


def gift_token_ix(
    fan: Pubkey,
    platform: str,
    handle: str,
    mint: Pubkey,
    amount: int,
    post_id: str,
    memo: str,
    treasury: Pubkey,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """The fan gifts `amount` base units of `mint` from its associated token account.

    The vault (the creator PDA's associated token account) and the treasury's associated token account
    must exist: precede this with create_vault_ix / create_ata_idempotent_ix in the same transaction.
    """
    creator = creator_pda(platform, handle, program_id)
    accounts = [
        _r(config_pda(program_id)),
        _w(creator),
        _r(fan, True),
        _w(associated_token_address(fan, mint)),
        _w(associated_token_address(creator, mint)),
        _w(associated_token_address(treasury, mint)),
        _r(mint),
        _r(TOKEN_PROGRAM_ID),
    ]
    return _ix("gift_token", _check_gift(amount, post_id, memo), accounts, program_id)


@dataclass(frozen=True)
class Gift:
    """One entry of a batch gift."""

    platform: str
    handle: str
    amount: int
    post_id: str = ""
    memo: str = ""


def batch_gift_ix(fan: Pubkey, gifts: Sequence[Gift], treasury: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    """SOL gifts to several creators in one instruction (each creator at most once)."""
    if not gifts:
        raise ClientError("a batch needs at least one gift")
    args = struct.pack("<I", len(gifts)) + b"".join(_check_gift(g.amount, g.post_id, g.memo) for g in gifts)
    accounts = [_r(config_pda(program_id)), _w(fan, True), _w(treasury), _r(SYSTEM_PROGRAM_ID)]
    accounts += [_w(creator_pda(g.platform, g.handle, program_id)) for g in gifts]
    return _ix("batch_gift", args, accounts, program_id)


def withdraw_ix(
    platform: str,
    handle: str,
    authority: Pubkey,
    amount: int,
    destination: Pubkey | None = None,
    program_id: Pubkey = PROGRAM_ID,
) -> Instruction:
    """The bound authority withdraws `amount` lamports to `destination` (default: itself)."""
    accounts = [
        _r(config_pda(program_id)),
        _w(creator_pda(platform, handle, program_id)),
        _r(authority, True),  # when it is also the destination, the message makes it writable
        _w(destination or authority),
    ]
    return _ix("withdraw", _u64(amount), accounts, program_id)


def withdraw_token_ix(
    platform: str, handle: str, authority: Pubkey, mint: Pubkey, amount: int, program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """The bound authority withdraws `amount` of `mint` from the vault to its associated token account."""
    creator = creator_pda(platform, handle, program_id)
    accounts = [
        _r(config_pda(program_id)),
        _w(creator),
        _r(authority, True),
        _w(associated_token_address(authority, mint)),
        _w(associated_token_address(creator, mint)),
        _r(TOKEN_PROGRAM_ID),
    ]
    return _ix("withdraw", _u64(amount), accounts, program_id)


def batch_withdraw_ix(
    admin: Pubkey, creators: Sequence[tuple[str, str, Pubkey]], program_id: Pubkey = PROGRAM_ID
) -> Instruction:
    """The admin pays each (platform, handle, bound authority) its whole SOL balance above rent."""
    accounts = [_r(config_pda(program_id)), _r(admin, True)]
    for platform, handle, authority in creators:
        accounts += [_w(creator_pda(platform, handle, program_id)), _w(authority)]
    return _ix("batch_withdraw", b"", accounts, program_id)


def set_paused_ix(admin: Pubkey, paused: bool, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    return _ix("set_paused", _u8(1 if paused else 0), [_w(config_pda(program_id)), _r(admin, True)], program_id)


def set_fee_ix(admin: Pubkey, fee_bps: int, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    if not 0 <= fee_bps < 2**16:
        raise ClientError(f"fee_bps {fee_bps} does not fit in a u16")
    return _ix("set_fee", _u16(fee_bps), [_w(config_pda(program_id)), _r(admin, True)], program_id)


def set_admin_ix(admin: Pubkey, new_admin: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    return _ix("set_admin", bytes(new_admin), [_w(config_pda(program_id)), _r(admin, True)], program_id)


def set_verifier_ix(admin: Pubkey, new_verifier: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Instruction:
    return _ix("set_verifier", bytes(new_verifier), [_w(config_pda(program_id)), _r(admin, True)], program_id)
