"""The local chain: LiteSVM executing transactions, wrapped in slots, commitment and a transaction history.

A transaction executes at once and belongs to the current slot. A slot is `processed` while current,
`confirmed` one slot later and `finalized` `finality_depth` slots later; block time advances with the
slots and the Clock sysvar follows, so programs see the same time the RPC reports. Blockhashes stay
valid for 150 slots as on a real cluster (LiteSVM's own check knows only the newest one, so we check).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata

__all__ = ["BLOCKHASH_VALIDITY", "Chain", "ChainError", "Executed", "Slot"]

BLOCKHASH_VALIDITY = 150
FIRST_SLOT = 1
FAUCET_LAMPORTS = 500_000_000 * 10**9

AnyTransaction = Transaction | VersionedTransaction


class ChainError(Exception):
    """A transaction the chain refuses before executing it (its RPC error code is `code`)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(frozen=True)
class Executed:
    """One executed transaction (successful or failed) with what getTransaction reports about it."""

    signature: str
    slot: int
    index: int
    block_time: int
    transaction: VersionedTransaction
    account_keys: tuple[Pubkey, ...]
    err: Any  # the RPC JSON form, None on success
    logs: tuple[str, ...]
    inner_instructions: tuple[tuple[Any, ...], ...]  # per top-level instruction: InnerInstruction objects
    compute_units: int
    fee: int
    pre_balances: tuple[int, ...]
    post_balances: tuple[int, ...]
    pre_token_balances: tuple[dict[str, Any], ...] = ()
    post_token_balances: tuple[dict[str, Any], ...] = ()


@dataclass
class Slot:
    slot: int
    parent: int
    block_time: int
    blockhash: str
    previous_blockhash: str
    transactions: list[str] = field(default_factory=list)


class Chain:
    def __init__(
        self,
        *,
        slot_ms: int = 400,
        finality_depth: int = 32,
        genesis_time: int | None = None,
        ledger: Path | None = None,
    ) -> None:
        self.svm = self._fresh_svm()
        self.programs: list[tuple[Pubkey, bytes]] = []
        self.log: list[tuple[int, bytes]] = []  # (slot, transaction bytes) of every executed transaction
        self.dead: set[int] = set()
        self.slot_ms = slot_ms
        self.finality_depth = finality_depth
        self.genesis_time = int(time.time()) if genesis_time is None else genesis_time
        self.slots: dict[int, Slot] = {}
        self.transactions: dict[str, Executed] = {}
        self.by_address: dict[str, list[str]] = {}  # address -> signatures, oldest first
        self._recent: deque[str] = deque(maxlen=BLOCKHASH_VALIDITY)
        self.slot = FIRST_SLOT - 1
        self.faucet = Keypair.from_seed(hashlib.sha256(b"memefans-localnet-faucet").digest())
        self.svm.set_account(self.faucet.pubkey(), Account(FAUCET_LAMPORTS, b"", SYSTEM_PROGRAM_ID, False, 0))
        self.ledger = ledger
        self._replaying = False
        journal = ledger / "ledger.jsonl" if ledger else None
        if journal is not None and journal.exists():
            self._replay(journal)
        else:
            if journal is not None:
                journal.parent.mkdir(parents=True, exist_ok=True)
                self._write({"genesis_time": self.genesis_time, "slot_ms": slot_ms})
            self.advance()

    # -- the ledger: an append-only journal replayed at start, so a restart resumes the same history ------

    @property
    def resumed(self) -> bool:
        return bool(self.ledger and self.programs)

    def _write(self, record: dict[str, Any]) -> None:
        if self.ledger is not None and not self._replaying:
            with (self.ledger / "ledger.jsonl").open("a") as journal:
                journal.write(json.dumps(record, separators=(",", ":")) + "\n")

    def _replay(self, journal: Path) -> None:
        self._replaying = True
        try:
            for line in journal.read_text().splitlines():
                record = json.loads(line)
                if "genesis_time" in record:
                    self.genesis_time = record["genesis_time"]
                    self.slot_ms = record["slot_ms"]
                    self.advance()
                elif "program" in record:
                    elf = (journal.parent / f"{record['program']}.so").read_bytes()
                    self.add_program(Pubkey.from_string(record["program"]), elf)
                else:
                    while self.slot < record["slot"]:
                        self.advance()
                    if "tx" in record:
                        self.send(VersionedTransaction.from_bytes(base64.b64decode(record["tx"])), check=False)
                    elif record.get("dead"):
                        self.kill_slot(record["slot"])
        finally:
            self._replaying = False

    @staticmethod
    def _fresh_svm() -> LiteSVM:
        return LiteSVM().with_blockhash_check(False).with_transaction_history(0)

    def add_program(self, program_id: Pubkey, elf: bytes) -> None:
        self.svm.add_program(program_id, elf)
        self.programs.append((program_id, elf))
        if self.ledger is not None and not self._replaying:
            (self.ledger / f"{program_id}.so").write_bytes(elf)
            self._write({"program": str(program_id)})

    def _set_clock(self, slot: int) -> None:
        self.svm.warp_to_slot(slot)
        clock = self.svm.get_clock()
        clock.unix_timestamp = self.block_time(slot)
        self.svm.set_clock(clock)

    def kill_slot(self, slot: int) -> list[str]:
        """A fork: `slot` never finalizes. Its transactions are rolled back by rebuilding the state from the
        log without them, as a validator switching forks would; returns their signatures."""
        if slot <= self.finalized_slot or slot not in self.slots or slot in self.dead:
            raise ChainError(-32602, f"slot {slot} cannot die: it is finalized, unknown or dead already")
        svm = self._fresh_svm()
        svm.set_account(self.faucet.pubkey(), Account(FAUCET_LAMPORTS, b"", SYSTEM_PROGRAM_ID, False, 0))
        for program_id, elf in self.programs:
            svm.add_program(program_id, elf)
        self.svm = svm
        for logged_slot, raw in self.log:
            if logged_slot != slot:
                self._set_clock(logged_slot)
                self.svm.send_transaction(VersionedTransaction.from_bytes(raw))
        self._set_clock(self.slot)
        self.log = [(s, raw) for s, raw in self.log if s != slot]
        victims = list(self.slots[slot].transactions)
        for signature in victims:
            executed = self.transactions.pop(signature)
            for key in executed.account_keys:
                self.by_address[str(key)].remove(signature)
        self.slots[slot].transactions.clear()
        self.dead.add(slot)
        self._write({"slot": slot, "dead": True})
        return victims

    # -- time ------------------------------------------------------------------------------------------

    def block_time(self, slot: int) -> int:
        return self.genesis_time + (slot - FIRST_SLOT) * self.slot_ms // 1000

    def advance(self) -> Slot:
        """Produce the next slot: a new blockhash, the clock moved on."""
        parent = self.slot
        self.slot += 1
        self._set_clock(self.slot)
        previous = self.slots[parent].blockhash if parent in self.slots else str(Hash.default())
        seed = hashlib.sha256(f"memefans-localnet:{self.genesis_time}:{self.slot}".encode()).digest()
        blockhash = str(Hash(seed))
        self._recent.append(blockhash)
        produced = Slot(self.slot, parent, self.block_time(self.slot), blockhash, previous)
        self.slots[self.slot] = produced
        if self.slot % 25 == 0:
            self._write({"slot": self.slot})  # so that a restart resumes near the slot it stopped at
        return produced

    @property
    def confirmed_slot(self) -> int:
        return max(FIRST_SLOT, self.slot - 1)

    @property
    def finalized_slot(self) -> int:
        return max(FIRST_SLOT, self.slot - self.finality_depth)

    def slot_for(self, commitment: str | None) -> int:
        return {"processed": self.slot, "confirmed": self.confirmed_slot}.get(
            commitment or "finalized", self.finalized_slot
        )

    def status_of(self, slot: int) -> str:
        if slot in self.dead:
            return "dead"
        if slot <= self.finalized_slot:
            return "finalized"
        return "confirmed" if slot <= self.confirmed_slot else "processed"

    @property
    def latest_blockhash(self) -> str:
        return self._recent[-1]

    def blockhash_valid(self, blockhash: str) -> bool:
        return blockhash in self._recent

    def last_valid_block_height(self) -> int:
        return self.slot + BLOCKHASH_VALIDITY

    # -- transactions ----------------------------------------------------------------------------------

    def check(self, tx: VersionedTransaction) -> None:
        if str(tx.signatures[0]) in self.transactions:
            raise ChainError(
                -32002, "Transaction simulation failed: This transaction has already been processed",
                _preflight_data("AlreadyProcessed"),
            )  # fmt: skip
        if not self.blockhash_valid(str(tx.message.recent_blockhash)):
            raise ChainError(
                -32002, "Transaction simulation failed: Blockhash not found", _preflight_data("BlockhashNotFound")
            )
        if not tx.verify_with_results() or not all(tx.verify_with_results()):
            raise ChainError(-32003, "Transaction signature verification failure")

    def simulate(self, tx: VersionedTransaction) -> Any:
        return self.svm.simulate_transaction(tx)

    def send(self, tx: VersionedTransaction, *, check: bool = True) -> Executed:
        if check:
            self.check(tx)
        keys = tuple(tx.message.account_keys)
        pre = tuple(self.svm.get_balance(k) or 0 for k in keys)
        pre_tokens = tuple(token_balances(self, keys))
        result = self.svm.send_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            meta: TransactionMetadata = result.meta()
            err: Any = _err_json(result)
        else:
            meta, err = result, None
        post = tuple(self.svm.get_balance(k) or 0 for k in keys)
        current = self.slots[self.slot]
        executed = Executed(
            signature=str(meta.signature()),
            slot=self.slot,
            index=len(current.transactions),
            block_time=current.block_time,
            transaction=tx,
            account_keys=keys,
            err=err,
            logs=tuple(meta.logs()),
            inner_instructions=tuple(tuple(inner) for inner in meta.inner_instructions()),
            compute_units=meta.compute_units_consumed(),
            fee=meta.fee(),
            pre_balances=pre,
            post_balances=post,
            pre_token_balances=pre_tokens,
            post_token_balances=tuple(token_balances(self, keys)),
        )
        self.transactions[executed.signature] = executed
        self.log.append((self.slot, bytes(tx)))
        self._write({"slot": self.slot, "tx": base64.b64encode(bytes(tx)).decode()})
        current.transactions.append(executed.signature)
        for key in keys:
            self.by_address.setdefault(str(key), []).append(executed.signature)
        return executed

    def airdrop(self, pubkey: Pubkey, lamports: int) -> Executed:
        """Credit lamports as a real faucet does: a system transfer from the faucet, recorded like any other."""
        message = Message.new_with_blockhash(
            [transfer(TransferParams(from_pubkey=self.faucet.pubkey(), to_pubkey=pubkey, lamports=lamports))],
            self.faucet.pubkey(),
            Hash.from_string(self.latest_blockhash),
        )
        return self.send(VersionedTransaction(message, [self.faucet]))

    def get(self, signature: str) -> Executed | None:
        return self.transactions.get(signature)


def token_balances(chain: Chain, keys: tuple[Pubkey, ...]) -> list[dict[str, Any]]:
    from programs.localnet.tokens import token_balances as balances  # tokens imports this module

    return balances(chain, keys)


def _preflight_data(err: str) -> dict[str, Any]:
    """The `data` of a -32002 answer: clients parse it as a simulation result."""
    return {"err": err, "logs": [], "accounts": None, "unitsConsumed": 0, "returnData": None}


def _err_json(result: FailedTransactionMetadata) -> Any:
    return json.loads(result.to_json())["err"]


def as_versioned(tx: AnyTransaction) -> VersionedTransaction:
    return tx if isinstance(tx, VersionedTransaction) else VersionedTransaction.from_legacy(tx)
