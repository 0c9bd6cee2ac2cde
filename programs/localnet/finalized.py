"""The local chain's accounts as of its finalized slot, for reads at `finalized` commitment.

The chain's SVM holds only the newest state. A second LiteSVM replays the chain's log of executed
transactions (the one a fork rebuilds from) up to the finalized slot, so that a finalized read answers
with the state at the slot its context names, as a real node answers from its rooted bank. It catches
up lazily, when asked, and by at most `budget` transactions a call (stopping between two slots), so that
the first read after a long ledger does not hold the event loop: the answer is then at an older
finalized slot, and says so. A fork only ever kills slots above the finalized one, so the prefix of the
log the replica applied never changes; if it did, the replica starts again.
"""

from __future__ import annotations

from solders.account import Account
from solders.litesvm import LiteSVM
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.transaction import VersionedTransaction

from programs.localnet.chain import FAUCET_LAMPORTS, FIRST_SLOT, Chain

__all__ = ["FinalizedState"]


class FinalizedState:
    def __init__(self, chain: Chain, *, budget: int = 4000) -> None:
        self.chain = chain
        self.budget = budget
        self._restart()

    def _restart(self) -> None:
        self.svm = self._genesis()
        self.programs = len(self.chain.programs)
        self.applied = 0  # how many entries of chain.log the replica executed
        self.slot = FIRST_SLOT  # the slot its state is at
        self._last: tuple[int, bytes] | None = None  # the last entry executed, to notice a log that changed

    def _genesis(self) -> LiteSVM:
        svm = LiteSVM().with_blockhash_check(False).with_transaction_history(0)
        svm.set_account(self.chain.faucet.pubkey(), Account(FAUCET_LAMPORTS, b"", SYSTEM_PROGRAM_ID, False, 0))
        for program_id, elf in self.chain.programs:
            svm.add_program(program_id, elf)
        return svm

    def state(self) -> tuple[int, LiteSVM]:
        """(slot, svm): the accounts at `slot`, the chain's finalized slot or, while catching up, one below."""
        log = self.chain.log
        changed = self.applied > len(log) or (self.applied and log[self.applied - 1] is not self._last)
        if changed or self.programs != len(self.chain.programs):
            self._restart()  # the history changed below the replica (or a program was deployed): start again
            log = self.chain.log
        target = self.chain.finalized_slot
        done = 0
        while self.applied < len(log) and log[self.applied][0] <= target:
            slot, raw = log[self.applied]
            if done >= self.budget and slot != log[self.applied - 1][0]:
                self.slot = slot - 1  # every transaction below `slot` applied, none of it
                return self.slot, self.svm
            self.svm.warp_to_slot(slot)
            clock = self.svm.get_clock()
            clock.unix_timestamp = self.chain.block_time(slot)
            self.svm.set_clock(clock)
            self.svm.send_transaction(VersionedTransaction.from_bytes(raw))
            self._last = log[self.applied]
            self.applied += 1
            done += 1
        self.slot = max(self.slot, target)
        return self.slot, self.svm
