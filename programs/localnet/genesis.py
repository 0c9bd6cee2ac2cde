"""Genesis of the local chain: the gift pool program deployed at its id, Config initialized, dev keys funded.

The development keys are derived from fixed seeds so that every run (and every test) knows them; they
guard nothing but a local chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from programs.localnet.chain import Chain, Executed

__all__ = ["DEFAULT_FEE_BPS", "DevKeys", "deploy_gift_pool", "dev_keys"]

DEFAULT_FEE_BPS = 250
_FUNDING = 1_000 * 10**9


@dataclass(frozen=True)
class DevKeys:
    admin: Keypair
    verifier: Keypair
    treasury: Keypair

    def describe(self) -> str:
        return "\n".join(
            f"{name + ':':10}{key.pubkey()}  (seed: sha256('memefans-dev:{name}'))"
            for name, key in (("admin", self.admin), ("verifier", self.verifier), ("treasury", self.treasury))
        )


def dev_keys() -> DevKeys:
    def key(name: str) -> Keypair:
        return Keypair.from_seed(hashlib.sha256(f"memefans-dev:{name}".encode()).digest())

    return DevKeys(key("admin"), key("verifier"), key("treasury"))


def deploy_gift_pool(chain: Chain, keys: DevKeys, fee_bps: int = DEFAULT_FEE_BPS) -> Executed:
    """Deploy the committed .so, fund the dev keys and initialize Config; returns the initialize transaction."""
    from programs.gift_pool import client

    chain.add_program(client.PROGRAM_ID, client.SO_PATH.read_bytes())
    for keypair in (keys.admin, keys.verifier, keys.treasury):
        chain.airdrop(keypair.pubkey(), _FUNDING)
    instruction = client.initialize_ix(keys.admin.pubkey(), keys.verifier.pubkey(), keys.treasury.pubkey(), fee_bps)
    message = Message.new_with_blockhash([instruction], keys.admin.pubkey(), Hash.from_string(chain.latest_blockhash))
    executed = chain.send(VersionedTransaction(message, [keys.admin]))
    if executed.err is not None:
        raise RuntimeError(f"initialize failed at genesis: {executed.err}; logs: {list(executed.logs)}")
    return executed
