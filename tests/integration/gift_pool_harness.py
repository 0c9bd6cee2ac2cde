"""Test harness for the gift pool: the real compiled program in the real SVM (solders.litesvm), plus a
borsh event decoder driven by idl.json alone (independent of the indexer's decoder, on purpose: the
tests check that the program emits what the IDL says).
"""

from __future__ import annotations

import base64
import json
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from solders.clock import Clock
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import Transaction
from solders.transaction_metadata import TransactionMetadata
from spl.token.instructions import initialize_mint2, mint_to
from spl.token.models import InitializeMint2Params, MintToParams

from programs.gift_pool import client as c

IDL: dict[str, Any] = json.loads((c.PROGRAM_DIR / "idl.json").read_text())
TYPES = {t["name"]: t["type"] for t in IDL["types"]}
EVENTS_BY_DISC = {bytes(e["discriminator"]): e["name"] for e in IDL["events"]}
ERRORS_BY_CODE = {e["code"]: e for e in IDL["errors"]}
NOW = 1_763_942_400  # the clock the tests run at (2025-11-24T00:00:00Z)
TX_FEE = 5000  # lamports per signature
ANCHOR_ERROR = re.compile(
    r"^Program log: AnchorError occurred\. Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*)\.$"
)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"event data ends at {len(self.data)}, need {self.pos + n}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def value(self, ty: Any) -> Any:
        if isinstance(ty, str):
            if ty == "pubkey":
                return Pubkey.from_bytes(self.take(32))
            if ty == "string":
                (n,) = struct.unpack("<I", self.take(4))
                return self.take(n).decode()
            if ty == "bool":
                b = self.take(1)[0]
                if b > 1:
                    raise ValueError(f"bad bool {b}")
                return b == 1
            fmt = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q", "i64": "<q"}[ty]
            return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        if "option" in ty:
            tag = self.take(1)[0]
            if tag > 1:
                raise ValueError(f"bad option tag {tag}")
            return self.value(ty["option"]) if tag else None
        if "vec" in ty:
            (n,) = struct.unpack("<I", self.take(4))
            return [self.value(ty["vec"]) for _ in range(n)]
        if "array" in ty:
            inner, n = ty["array"]
            return bytes(self.take(n)) if inner == "u8" else [self.value(inner) for _ in range(n)]
        if "defined" in ty:
            return self.struct(ty["defined"]["name"])
        raise ValueError(f"unknown IDL type {ty!r}")

    def struct(self, name: str) -> dict[str, Any]:
        return {f["name"]: self.value(f["type"]) for f in TYPES[name]["fields"]}


def decode_event(data: bytes) -> tuple[str, dict[str, Any]]:
    """Decodes one sol_log_data payload with idl.json; it must be consumed exactly."""
    name = EVENTS_BY_DISC.get(data[:8])
    if name is None:
        raise ValueError(f"unknown event discriminator {data[:8].hex()}")
    reader = _Reader(data[8:])
    fields = reader.struct(name)
    if reader.pos != len(reader.data):
        raise ValueError(f"{name}: {len(reader.data) - reader.pos} trailing bytes")
    return name, fields


def decode_account(name: str, data: bytes) -> dict[str, Any]:
    """Decodes an account of the program (Config, Creator) with idl.json after its discriminator."""
    disc = next(bytes(a["discriminator"]) for a in IDL["accounts"] if a["name"] == name)
    assert data[:8] == disc, f"not a {name} account"
    return _Reader(data[8:]).struct(name)


@dataclass(frozen=True)
class Result:
    """What one transaction did: success, logs, compute units, decoded events, custom error."""

    ok: bool
    logs: list[str]
    compute_units: int
    events: list[tuple[str, dict[str, Any]]]
    error: str
    custom: int | None = None
    instructions: list[str] = field(default_factory=list)

    def only(self, name: str) -> dict[str, Any]:
        found = [f for n, f in self.events if n == name]
        assert len(found) == 1, f"expected one {name}, got {self.events}"
        return found[0]

    def assert_error(self, name: str) -> None:
        """The transaction failed with the IDL error `name`, returned as Custom(N) and logged Anchor's way."""
        assert not self.ok, f"expected {name}, but the transaction succeeded: {self.logs}"
        entry = next(e for e in IDL["errors"] if e["name"] == name)
        assert self.custom == entry["code"], f"expected {name} ({entry['code']}), got {self.error}\n{self.logs}"
        lines = [m for m in (ANCHOR_ERROR.match(line) for line in self.logs) if m]
        assert len(lines) == 1, self.logs
        assert lines[0].groups() == (name, str(entry["code"]), entry["msg"])
        assert self.events == [], "a failed transaction must not emit events"


def _parse(logs: list[str], program_id: Pubkey) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    events, names = [], []
    depth_ours = False
    for line in logs:
        if line.startswith(f"Program {program_id} invoke"):
            depth_ours = True
        elif line.startswith("Program data: ") and depth_ours:
            events.append(decode_event(base64.b64decode(line.removeprefix("Program data: "))))
        elif line.startswith("Program log: Instruction: ") and depth_ours:
            names.append(line.removeprefix("Program log: Instruction: "))
    return events, names


class Chain:
    """A LiteSVM with the gift pool deployed at its program id and the actors funded."""

    def __init__(self, fee_bps: int = 250, deploy: bool = True) -> None:
        self.svm = LiteSVM()
        if deploy:  # at genesis; deploy=False leaves it to the test (e.g. through the upgradeable loader)
            self.svm.add_program(c.PROGRAM_ID, c.SO_PATH.read_bytes())
        self.svm.set_clock(Clock(1000, NOW - 3600, 0, 1, NOW))
        self.admin, self.verifier, self.treasury = Keypair(), Keypair(), Keypair()
        for who in (self.admin, self.verifier, self.treasury):
            self.svm.airdrop(who.pubkey(), 10 * 10**9)
        self.fee_bps = fee_bps
        self.results: list[Result] = []

    def wallet(self, sol: int = 100) -> Keypair:
        kp = Keypair()
        self.svm.airdrop(kp.pubkey(), sol * 10**9)
        return kp

    def send(self, ixs: Instruction | list[Instruction], *signers: Keypair) -> Result:
        ixs = [ixs] if isinstance(ixs, Instruction) else ixs
        tx = Transaction(list(signers), Message(ixs, signers[0].pubkey()), self.svm.latest_blockhash())
        out = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        ok = isinstance(out, TransactionMetadata)
        meta = out if ok else out.meta()
        logs = list(meta.logs())
        events, names = _parse(logs, c.PROGRAM_ID) if ok else ([], _parse_names(logs))
        error, custom = "", None
        if not ok:
            error = str(out.err())
            m = re.search(r"Custom\((\d+)\)", error)
            custom = int(m.group(1)) if m else None
        result = Result(ok, logs, int(meta.compute_units_consumed()), events, error, custom, names)
        self.results.append(result)
        return result

    def ok(self, ixs: Instruction | list[Instruction], *signers: Keypair) -> Result:
        result = self.send(ixs, *signers)
        assert result.ok, f"{result.error}\n" + "\n".join(result.logs)
        return result

    def balance(self, key: Pubkey) -> int:
        return int(self.svm.get_balance(key) or 0)

    def data(self, key: Pubkey) -> bytes:
        account = self.svm.get_account(key)
        assert account is not None, f"{key} does not exist"
        return bytes(account.data)

    def rent(self, size: int) -> int:
        return int(self.svm.minimum_balance_for_rent_exemption(size))

    def initialize(self) -> Result:
        return self.ok(
            c.initialize_ix(self.admin.pubkey(), self.verifier.pubkey(), self.treasury.pubkey(), self.fee_bps),
            self.admin,
        )

    def creator(self, platform: str, handle: str, authority: Keypair | None = None) -> Pubkey:
        """Registers (and binds when `authority` is given) a creator; returns its PDA."""
        payer = self.wallet(1)
        self.ok(c.register_creator_ix(platform, handle, payer.pubkey()), payer)
        if authority is not None:
            self.ok(c.bind_creator_ix(platform, handle, authority.pubkey(), self.verifier.pubkey()), self.verifier)
        return c.creator_pda(platform, handle)

    # ---- SPL token fixtures, through the real Token and Associated Token programs ----
    def mint(self, decimals: int = 6) -> Keypair:
        mint = Keypair()
        space = 82
        create = create_account(
            CreateAccountParams(
                from_pubkey=self.admin.pubkey(),
                to_pubkey=mint.pubkey(),
                lamports=self.rent(space),
                space=space,
                owner=c.TOKEN_PROGRAM_ID,
            )
        )
        init = initialize_mint2(
            InitializeMint2Params(
                program_id=c.TOKEN_PROGRAM_ID, mint=mint.pubkey(), decimals=decimals, mint_authority=self.admin.pubkey()
            )
        )
        self.ok([create, init], self.admin, mint)
        return mint

    def token_account(self, owner: Pubkey, mint: Pubkey, amount: int = 0) -> Pubkey:
        """The associated token account of (owner, mint), created idempotently and funded with `amount`."""
        ixs = [c.create_ata_idempotent_ix(self.admin.pubkey(), owner, mint)]
        ata = c.associated_token_address(owner, mint)
        if amount:
            ixs.append(
                mint_to(
                    MintToParams(
                        program_id=c.TOKEN_PROGRAM_ID,
                        mint=mint,
                        dest=ata,
                        mint_authority=self.admin.pubkey(),
                        amount=amount,
                    )
                )
            )
        self.ok(ixs, self.admin)
        return ata

    def token_balance(self, ata: Pubkey) -> int:
        return int(struct.unpack_from("<Q", self.data(ata), 64)[0])


def _parse_names(logs: list[str]) -> list[str]:
    return [
        line.removeprefix("Program log: Instruction: ")
        for line in logs
        if line.startswith("Program log: Instruction: ")
    ]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
