"""`memefans simulate`: gift traffic that behaves like the real platform, with labelled incidents.

Creators on x, youtube and twitch with power-law (Zipf) popularity; fans with power-law activity; SOL
and meme-token gifts (an SPL mint the simulator creates) tied to post ids with memos; handles bound over
time (gifts to unbound handles wait in escrow); withdrawals and admin batch payouts; and injected
incidents, each written to the truth file with its signatures. Everything is drawn from one seeded RNG,
so a seed gives the same traffic apart from signatures and times. The truth file's per-creator totals
are read from the chain at the end (the Creator accounts and vault balances), and checked against what
the simulator itself sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.models import TxOpts
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import VersionedTransaction
from spl.token.instructions import initialize_mint2, mint_to
from spl.token.models import InitializeMint2Params, MintToParams

from programs.gift_pool import client as gp
from programs.localnet.genesis import dev_keys

__all__ = ["Simulator", "main"]

PLATFORMS = ("x", "youtube", "twitch")
MEMOS = ("gm", "love this", "keep going", "", "for the stream", "🔥", "wagmi", "")
LAMPORTS = 10**9
MEME_DECIMALS = 6


@dataclass
class Creator:
    platform: str
    handle: str
    wallet: Keypair
    bound: bool = False
    gifted: int = 0
    fees: int = 0
    withdrawn: int = 0
    gifts: int = 0
    token_gifted: int = 0
    token_fees: int = 0
    token_gifts: int = 0

    @property
    def pda(self) -> Pubkey:
        return gp.creator_pda(self.platform, self.handle)


@dataclass
class Simulator:
    rpc: AsyncClient
    rng: random.Random
    creators: list[Creator] = field(default_factory=list)
    fans: list[Keypair] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    handle_prefix: str = "creator"  # another prefix gives other creators (a demo that resumes its chain)
    _messages: set[bytes] = field(default_factory=set)

    async def load_config(self) -> None:
        self.keys = dev_keys()
        config = (await self.rpc.get_account_info(gp.config_pda(), Confirmed)).value
        if config is None:
            raise SystemExit("the gift pool is not initialized on this chain (is it `memefans localnet`?)")
        data = bytes(config.data)
        self.treasury = Pubkey.from_bytes(data[72:104])
        self.fee_bps = struct.unpack_from("<H", data, 112)[0]

    # -- sending ---------------------------------------------------------------------------------------

    async def send(
        self, instructions: Sequence[Instruction], signers: Sequence[Keypair], expect_failure: bool = False
    ) -> str:
        while True:  # the same message under the same blockhash is the same transaction: wait for a new one
            blockhash = Hash.from_string(str((await self.rpc.get_latest_blockhash()).value.blockhash))
            message = Message.new_with_blockhash(list(instructions), signers[0].pubkey(), blockhash)
            if bytes(message) not in self._messages:
                break
            await asyncio.sleep(0.02)
        self._messages.add(bytes(message))
        tx = VersionedTransaction(message, list(signers))
        signature = (await self.rpc.send_raw_transaction(bytes(tx), TxOpts(skip_preflight=expect_failure))).value
        status = (await self.rpc.get_signature_statuses([signature])).value[0]
        self.sent += 1
        failed = status is None or status.err is not None
        self.failed += failed
        if failed != expect_failure:
            raise RuntimeError(f"transaction {signature} {'failed' if failed else 'succeeded'} unexpectedly: {status}")
        return str(signature)

    async def fund(self, to: Pubkey, lamports: int) -> None:
        await self.rpc.request_airdrop(to, lamports)

    def fee(self, amount: int) -> int:
        return int(amount * self.fee_bps // 10_000)

    async def gift(self, fan: Keypair, creator: Creator, amount: int, post: str) -> str:
        memo = self.rng.choice(MEMOS)
        ix = gp.gift_sol_ix(fan.pubkey(), creator.platform, creator.handle, amount, post, memo, self.treasury)
        signature = await self.send([ix], [fan])
        creator.gifted += amount
        creator.fees += self.fee(amount)
        creator.gifts += 1
        return signature

    async def withdraw(self, creator: Creator, amount: int, destination: Pubkey | None = None) -> str:
        ix = gp.withdraw_ix(creator.platform, creator.handle, creator.wallet.pubkey(), amount, destination)
        signature = await self.send([ix], [creator.wallet])
        creator.withdrawn += amount
        return signature

    async def bind(self, creator: Creator, wallet: Keypair | None = None) -> str:
        if wallet is not None:
            creator.wallet = wallet
        ix = gp.bind_creator_ix(creator.platform, creator.handle, creator.wallet.pubkey(), self.keys.verifier.pubkey())
        signature = await self.send([ix], [self.keys.verifier])
        creator.bound = True
        return signature

    def balance(self, creator: Creator) -> int:
        return creator.gifted - creator.fees - creator.withdrawn

    # -- the world -------------------------------------------------------------------------------------

    async def setup(self, n_creators: int, n_fans: int) -> None:
        for i in range(n_creators):
            creator = Creator(
                PLATFORMS[i % 3], f"{self.handle_prefix}_{i:03d}", Keypair.from_seed(self.rng.randbytes(32))
            )
            self.creators.append(creator)
            await self.fund(creator.wallet.pubkey(), LAMPORTS)
        for chunk in range(0, n_creators, 8):
            ixs = [
                gp.register_creator_ix(c.platform, c.handle, self.keys.admin.pubkey())
                for c in self.creators[chunk : chunk + 8]
            ]
            await self.send(ixs, [self.keys.admin])
        for creator in self.creators:
            if self.rng.random() < 0.6:
                await self.bind(creator)
        for _ in range(n_fans):
            fan = Keypair.from_seed(self.rng.randbytes(32))
            self.fans.append(fan)
            await self.fund(fan.pubkey(), 100 * LAMPORTS)
        await self.mint_meme_token()

    async def mint_meme_token(self) -> None:
        """The meme token fans also gift: 6 decimals, minted to every fan; vaults and the treasury's account."""
        admin = self.keys.admin
        self.mint = Keypair.from_seed(self.rng.randbytes(32))
        rent = (await self.rpc.get_minimum_balance_for_rent_exemption(82)).value
        mint = self.mint.pubkey()
        create = CreateAccountParams(
            from_pubkey=admin.pubkey(), to_pubkey=mint, lamports=rent, space=82, owner=gp.TOKEN_PROGRAM_ID
        )
        init = InitializeMint2Params(
            decimals=MEME_DECIMALS, program_id=gp.TOKEN_PROGRAM_ID, mint=mint, mint_authority=admin.pubkey()
        )
        treasury_ata = gp.create_ata_idempotent_ix(admin.pubkey(), self.treasury, mint)
        await self.send([create_account(create), initialize_mint2(init), treasury_ata], [admin, self.mint])
        for chunk in range(0, len(self.fans), 4):
            ixs: list[Instruction] = []
            for fan in self.fans[chunk : chunk + 4]:
                ata = gp.associated_token_address(fan.pubkey(), self.mint.pubkey())
                ixs.append(gp.create_ata_idempotent_ix(admin.pubkey(), fan.pubkey(), self.mint.pubkey()))
                grant = MintToParams(
                    program_id=gp.TOKEN_PROGRAM_ID,
                    mint=mint,
                    dest=ata,
                    mint_authority=admin.pubkey(),
                    amount=10**6 * 10**MEME_DECIMALS,
                )
                ixs.append(mint_to(grant))
            await self.send(ixs, [admin])
        for chunk in range(0, len(self.creators), 6):
            vaults = [gp.create_vault_ix(admin.pubkey(), c.platform, c.handle, self.mint.pubkey())
                      for c in self.creators[chunk : chunk + 6]]  # fmt: skip
            await self.send(vaults, [admin])

    async def gift_token(self, fan: Keypair, creator: Creator, amount: int, post: str) -> str:
        ix = gp.gift_token_ix(fan.pubkey(), creator.platform, creator.handle, self.mint.pubkey(), amount, post,
                              self.rng.choice(MEMOS), self.treasury)  # fmt: skip
        signature = await self.send([ix], [fan])
        creator.token_gifted += amount
        creator.token_fees += self.fee(amount)
        creator.token_gifts += 1
        return signature

    def zipf(self, items: Sequence[Any], s: float = 1.1) -> Any:
        weights = [1 / (rank + 1) ** s for rank in range(len(items))]
        return self.rng.choices(items, weights=weights)[0]

    def amount(self) -> int:
        # log-normal-ish gift sizes between 0.001 and ~5 SOL, in whole micro-SOL
        return max(1_000_000, int(self.rng.lognormvariate(17.5, 1.2)) // 1000 * 1000)

    async def step(self, k: int) -> None:
        roll = self.rng.random()
        creator = self.zipf(self.creators)
        if roll < 0.70:
            fan = self.zipf(self.fans, 0.8)
            await self.gift(fan, creator, self.amount(), f"{creator.platform}-post-{self.rng.randrange(8)}")
        elif roll < 0.86:
            fan = self.zipf(self.fans, 0.8)
            tokens = self.amount() * 10**MEME_DECIMALS // 10**6  # the same size law, in whole MEME
            await self.gift_token(fan, creator, tokens, f"{creator.platform}-post-{self.rng.randrange(8)}")
        elif roll < 0.93:
            bound = [c for c in self.creators if c.bound and self.balance(c) > 10_000_000]
            if bound:
                chosen = self.rng.choice(bound)
                await self.withdraw(chosen, self.balance(chosen) // self.rng.choice((2, 3, 1)))
        elif roll < 0.97:
            unbound = [c for c in self.creators if not c.bound]
            if unbound:
                await self.bind(self.rng.choice(unbound))
        else:
            payees = [c for c in self.creators if c.bound and self.balance(c) > 0][:4]
            if payees:
                ix = gp.batch_withdraw_ix(
                    self.keys.admin.pubkey(), [(c.platform, c.handle, c.wallet.pubkey()) for c in payees]
                )
                await self.send([ix], [self.keys.admin])
                for c in payees:
                    c.withdrawn += self.balance(c)

    # -- incidents -------------------------------------------------------------------------------------

    def incident(self, kind: str, creator: Creator | None, signatures: list[str], **details: Any) -> None:
        record = {"kind": kind, "signatures": signatures, **details}
        if creator is not None:
            record |= {"platform": creator.platform, "handle": creator.handle, "creator": str(creator.pda)}
        self.incidents.append(record)

    async def sybil_swarm(self) -> None:
        target = self.rng.choice(self.creators)
        funder = Keypair.from_seed(self.rng.randbytes(32))
        await self.fund(funder.pubkey(), 50 * LAMPORTS)
        wallets = [Keypair.from_seed(self.rng.randbytes(32)) for _ in range(10)]
        signatures = [await self.send([transfer(TransferParams(from_pubkey=funder.pubkey(), to_pubkey=w.pubkey(),
                                                         lamports=LAMPORTS))], [funder]) for w in wallets]  # fmt: skip
        signatures += [await self.gift(w, target, 50_000_000, "") for w in wallets]
        self.incident("sybil_swarm", target, signatures, funder=str(funder.pubkey()),
                      wallets=[str(w.pubkey()) for w in wallets])  # fmt: skip

    async def self_gifting_loop(self) -> None:
        creator = await self._bound_with_balance(200_000_000)
        destination = Keypair.from_seed(self.rng.randbytes(32))
        signatures = [await self.withdraw(creator, self.balance(creator), destination.pubkey())]
        helpers = [Keypair.from_seed(self.rng.randbytes(32)) for _ in range(3)]
        for helper in helpers:
            fund = transfer(
                TransferParams(from_pubkey=destination.pubkey(), to_pubkey=helper.pubkey(), lamports=LAMPORTS // 20)
            )
            signatures.append(await self.send([fund], [destination]))
        signatures += [await self.gift(h, creator, 40_000_000, "") for h in helpers]
        self.incident("self_gifting_loop", creator, signatures, destination=str(destination.pubkey()))

    async def burst_then_withdraw(self) -> None:
        creator = await self._bound_with_balance(0)
        signatures = [await self.gift(self.rng.choice(self.fans), creator, 300_000_000, "burst") for _ in range(20)]
        signatures.append(await self.withdraw(creator, self.balance(creator)))
        self.incident("burst_then_withdraw", creator, signatures)

    async def unauthorized_attempts(self) -> None:
        creator = await self._bound_with_balance(0)
        attacker = Keypair.from_seed(self.rng.randbytes(32))
        await self.fund(attacker.pubkey(), LAMPORTS)
        signatures = []
        for amount in range(6):
            ix = gp.withdraw_ix(creator.platform, creator.handle, attacker.pubkey(), 1_000_000 + amount)
            signatures.append(await self.send([ix], [attacker], expect_failure=True))
        self.incident("unauthorized_attempts", creator, signatures, attacker=str(attacker.pubkey()))

    async def pause_unpause(self) -> None:
        admin = self.keys.admin
        signatures = [await self.send([gp.set_paused_ix(admin.pubkey(), True)], [admin])]
        creator, fan = self.rng.choice(self.creators), self.rng.choice(self.fans)
        ix = gp.gift_sol_ix(fan.pubkey(), creator.platform, creator.handle, 1_000_000, "", "", self.treasury)
        signatures.append(await self.send([ix], [fan], expect_failure=True))
        signatures.append(await self.send([gp.set_paused_ix(admin.pubkey(), False)], [admin]))
        self.incident("pause_unpause", None, signatures)

    async def rebind(self) -> None:
        creator = await self._bound_with_balance(0)
        previous = creator.wallet.pubkey()
        new_wallet = Keypair.from_seed(self.rng.randbytes(32))
        await self.fund(new_wallet.pubkey(), LAMPORTS)
        signature = await self.bind(creator, new_wallet)
        self.incident("rebind", creator, [signature], previous=str(previous), new=str(new_wallet.pubkey()))

    async def new_destination_withdrawal(self) -> None:
        creator = await self._bound_with_balance(50_000_000)
        destination = Keypair.from_seed(self.rng.randbytes(32)).pubkey()
        signature = await self.withdraw(creator, self.balance(creator) // 2, destination)
        self.incident("new_destination_withdrawal", creator, [signature], destination=str(destination))

    async def _bound_with_balance(self, minimum: int) -> Creator:
        candidates = [c for c in self.creators if c.bound and self.balance(c) >= minimum] or [
            c for c in self.creators if c.bound
        ]
        if not candidates:
            candidates = [self.creators[0]]
            await self.bind(candidates[0])
        creator: Creator = self.rng.choice(candidates)
        while self.balance(creator) < minimum:
            await self.gift(self.rng.choice(self.fans), creator, minimum, "top-up")
        return creator

    # -- the truth -------------------------------------------------------------------------------------

    async def token_truth(self, creator: Creator) -> dict[str, int]:
        vault = gp.associated_token_address(creator.pda, self.mint.pubkey())
        balance = int((await self.rpc.get_token_account_balance(vault, Confirmed)).value.amount)
        expected = creator.token_gifted - creator.token_fees
        if balance != expected:
            raise RuntimeError(f"{creator.handle}: vault holds {balance} MEME units, sent {expected}")
        return {"gifted": creator.token_gifted, "fees": creator.token_fees, "withdrawn": 0, "balance": balance,
                "gift_count": creator.token_gifts}  # fmt: skip

    async def truth(self) -> dict[str, Any]:
        accounts = (await self.rpc.get_multiple_accounts([c.pda for c in self.creators], Confirmed)).value
        creators = []
        for creator, account in zip(self.creators, accounts, strict=True):
            assert account is not None
            data = bytes(account.data)
            received, withdrawn, count = struct.unpack_from("<QQQ", data, 8 + 32 + 32)
            rent = (await self.rpc.get_minimum_balance_for_rent_exemption(len(data))).value
            balance = account.lamports - rent
            # the Creator account counts every gift; the truth keeps SOL and token counts apart
            mine = (creator.gifted - creator.fees, creator.withdrawn, creator.gifts + creator.token_gifts,
                    self.balance(creator))  # fmt: skip
            if mine != (received, withdrawn, count, balance):
                raise RuntimeError(f"{creator.handle}: chain says {(received, withdrawn, count, balance)}, sent {mine}")
            creators.append({
                "platform": creator.platform, "handle": creator.handle, "creator": str(creator.pda),
                "authority": str(creator.wallet.pubkey()) if creator.bound else None,
                "gifted": creator.gifted, "fees": creator.fees, "withdrawn": withdrawn, "balance": balance,
                "gift_count": creator.gifts, "tokens": {str(self.mint.pubkey()): await self.token_truth(creator)},
            })  # fmt: skip
        return {"fee_bps": self.fee_bps, "creators": creators, "incidents": self.incidents,
                "transactions": {"sent": self.sent, "failed": self.failed}}  # fmt: skip


INCIDENTS = ("sybil_swarm", "self_gifting_loop", "burst_then_withdraw", "unauthorized_attempts",
             "pause_unpause", "rebind", "new_destination_withdrawal")  # fmt: skip


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with AsyncClient(args.rpc_url, timeout=30) as rpc:
        return await _run(Simulator(rpc, random.Random(args.seed)), args)


async def _run(sim: Simulator, args: argparse.Namespace) -> dict[str, Any]:
    await sim.load_config()
    await sim.setup(args.creators, args.fans)
    pending = [] if args.no_incidents else list(INCIDENTS)
    total = max(1, int(args.duration * args.tps))
    started = time.monotonic()
    for k in range(total):
        if pending and k >= (len(INCIDENTS) - len(pending) + 1) * total // (len(INCIDENTS) + 1):
            await getattr(sim, pending.pop(0))()
        await sim.step(k)
        delay = started + (k + 1) / args.tps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    for name in pending:
        await getattr(sim, name)()
    return await sim.truth()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="memefans simulate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpc-url", default="http://127.0.0.1:8899")
    parser.add_argument("--creators", type=int, default=24)
    parser.add_argument("--fans", type=int, default=60)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of traffic")
    parser.add_argument("--tps", type=float, default=5.0, help="steps a second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-incidents", action="store_true", help="clean traffic only")
    parser.add_argument("--truth", type=Path, required=True, help="where to write the truth file (JSON)")
    args = parser.parse_args(argv)
    if args.creators < 3 or args.fans < 1:
        parser.error("at least 3 creators and 1 fan")
    truth = asyncio.run(run(args))
    args.truth.write_text(json.dumps(truth, indent=2))
    counts = truth["transactions"]
    print(f"sent {counts['sent']} transactions ({counts['failed']} failed on purpose), "
          f"{len(truth['incidents'])} incidents; truth in {args.truth}", file=sys.stderr)  # fmt: skip
    return 0
