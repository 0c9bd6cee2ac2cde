"""Gift pool program: compute units per instruction, .so size and build time.

Runs the committed gift_pool.so in LiteSVM (the same SVM as the tests) and reads each transaction's
consumed compute units. Baselines measured in the same run: a bare System transfer and a bare SPL Token
transfer (what a gift fundamentally costs without the program), so the ratios show the program's overhead.
Rebuilds the .so from source (when clang is installed) to time the build and check it is byte-identical.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from solders.clock import Clock
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction
from solders.transaction_metadata import TransactionMetadata
from spl.token.instructions import initialize_mint2, mint_to
from spl.token.instructions import transfer as token_transfer
from spl.token.models import InitializeMint2Params, MintToParams
from spl.token.models import TransferParams as TokenTransferParams

from programs.gift_pool import client as c
from programs.gift_pool.build import BuildError, build


class Bench:
    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.svm.add_program(c.PROGRAM_ID, c.SO_PATH.read_bytes())
        self.svm.set_clock(Clock(1000, 0, 0, 1, 1_763_942_400))
        self.seed = 0

    def keypair(self) -> Keypair:
        """Fixed keys, so PDA bump searches (part of the cost) are the same in every run."""
        self.seed += 1
        return Keypair.from_seed(bytes([self.seed]) * 32)

    def wallet(self) -> Keypair:
        kp = self.keypair()
        self.svm.airdrop(kp.pubkey(), 1000 * 10**9)
        return kp

    def cu(self, ixs: Instruction | list[Instruction], *signers: Keypair) -> int:
        """Compute units the transaction consumed."""
        ixs = [ixs] if isinstance(ixs, Instruction) else ixs
        tx = Transaction(list(signers), Message(ixs, signers[0].pubkey()), self.svm.latest_blockhash())
        out = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        if not isinstance(out, TransactionMetadata):
            raise RuntimeError(f"transaction failed: {out}")
        return int(out.compute_units_consumed())


def measure() -> tuple[dict[str, int], dict[str, int]]:
    b = Bench()
    admin, verifier, treasury, fan, alice = (b.wallet() for _ in range(5))
    cu: dict[str, int] = {}
    base: dict[str, int] = {}
    base["system transfer"] = b.cu(
        transfer(TransferParams(from_pubkey=fan.pubkey(), to_pubkey=alice.pubkey(), lamports=1)), fan
    )

    cu["initialize"] = b.cu(c.initialize_ix(admin.pubkey(), verifier.pubkey(), treasury.pubkey(), 250), admin)
    cu["register_creator"] = b.cu(c.register_creator_ix("x", "alice", fan.pubkey()), fan)
    for i in range(4):
        b.cu(c.register_creator_ix("x", f"c{i}", fan.pubkey()), fan)
    cu["bind_creator"] = b.cu(c.bind_creator_ix("x", "alice", alice.pubkey(), verifier.pubkey()), verifier)
    cu["bind_creator (rebind)"] = b.cu(c.bind_creator_ix("x", "alice", alice.pubkey(), verifier.pubkey()), verifier)
    cu["gift_sol"] = b.cu(
        c.gift_sol_ix(fan.pubkey(), "x", "alice", 10**9, "1890000000000000001", "gm ser", treasury.pubkey()), fan
    )
    cu["gift_sol (64-byte memo)"] = b.cu(
        c.gift_sol_ix(fan.pubkey(), "x", "alice", 10**9, "p" * 64, "m" * 64, treasury.pubkey()), fan
    )
    gifts = [c.Gift("x", f"c{i}", 10**9, "p", "m") for i in range(4)]
    cu["batch_gift (4 creators)"] = b.cu(c.batch_gift_ix(fan.pubkey(), gifts, treasury.pubkey()), fan)
    cu["withdraw (SOL)"] = b.cu(c.withdraw_ix("x", "alice", alice.pubkey(), 10**8), alice)

    # Tokens: a mint, the fan's funded account, the treasury's and the creator's vault.
    mint = b.keypair()
    b.cu(
        [
            create_account(
                CreateAccountParams(
                    from_pubkey=admin.pubkey(),
                    to_pubkey=mint.pubkey(),
                    lamports=int(b.svm.minimum_balance_for_rent_exemption(82)),
                    space=82,
                    owner=c.TOKEN_PROGRAM_ID,
                )
            ),
            initialize_mint2(
                InitializeMint2Params(
                    program_id=c.TOKEN_PROGRAM_ID, mint=mint.pubkey(), decimals=6, mint_authority=admin.pubkey()
                )
            ),
        ],
        admin,
        mint,
    )
    m = mint.pubkey()
    creator = c.creator_pda("x", "alice")
    for owner in (fan.pubkey(), treasury.pubkey(), creator, alice.pubkey()):
        b.cu(c.create_ata_idempotent_ix(admin.pubkey(), owner, m), admin)
    fan_ata = c.associated_token_address(fan.pubkey(), m)
    b.cu(
        mint_to(
            MintToParams(
                program_id=c.TOKEN_PROGRAM_ID, mint=m, dest=fan_ata, mint_authority=admin.pubkey(), amount=10**12
            )
        ),
        admin,
    )
    base["token transfer"] = b.cu(
        token_transfer(
            TokenTransferParams(
                program_id=c.TOKEN_PROGRAM_ID,
                source=fan_ata,
                dest=c.associated_token_address(treasury.pubkey(), m),
                owner=fan.pubkey(),
                amount=1,
            )
        ),
        fan,
    )
    cu["gift_token"] = b.cu(c.gift_token_ix(fan.pubkey(), "x", "alice", m, 10**6, "p", "m", treasury.pubkey()), fan)
    cu["withdraw (token)"] = b.cu(c.withdraw_token_ix("x", "alice", alice.pubkey(), m, 10**5), alice)

    payees = [b.wallet() for _ in range(4)]
    for i, payee in enumerate(payees):
        b.cu(c.bind_creator_ix("x", f"c{i}", payee.pubkey(), verifier.pubkey()), verifier)
    cu["batch_withdraw (4 creators)"] = b.cu(
        c.batch_withdraw_ix(admin.pubkey(), [("x", f"c{i}", o.pubkey()) for i, o in enumerate(payees)]), admin
    )
    cu["set_paused"] = b.cu(c.set_paused_ix(admin.pubkey(), True), admin)
    b.cu(c.set_paused_ix(admin.pubkey(), False), admin)
    cu["set_fee"] = b.cu(c.set_fee_ix(admin.pubkey(), 100), admin)
    cu["set_verifier"] = b.cu(c.set_verifier_ix(admin.pubkey(), alice.pubkey()), admin)
    cu["set_admin"] = b.cu(c.set_admin_ix(admin.pubkey(), alice.pubkey()), admin)
    return cu, base


def main() -> int:
    so = c.SO_PATH.read_bytes()
    cu, base = measure()
    width = max(len(k) for k in [*cu, *base])
    print(f"gift_pool.so: {len(so):,} bytes")
    print()
    print(f"{'instruction'.ljust(width)}  {'CU':>7}  {'x system transfer':>17}  {'x token transfer':>16}")
    for name, units in cu.items():
        vs_system, vs_token = units / base["system transfer"], units / base["token transfer"]
        print(f"{name.ljust(width)}  {units:>7,}  {vs_system:>17.1f}  {vs_token:>16.1f}")
    print()
    for name, units in base.items():
        print(f"baseline {name}: {units} CU")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        try:
            fresh = build(Path(tmp) / "gift_pool.so")
        except BuildError as exc:
            print(f"build: skipped ({exc})")
        else:
            elapsed = time.perf_counter() - started
            print(f"build (clang + postlink): {elapsed:.2f}s, byte-identical to the committed .so: {fresh == so}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
