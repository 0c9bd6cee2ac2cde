"""The committed .so deploys the way a cluster deploys programs: through the upgradeable BPF loader
(buffer, chunked writes, DeployWithMaxDataLen), whose verifier is stricter than a genesis load; then
the deployed program runs a gift."""

from __future__ import annotations

import struct

from gift_pool_harness import Chain
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.sysvar import CLOCK, RENT

from programs.gift_pool import client as c

LOADER = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
BUFFER_METADATA = 37  # UpgradeableLoaderState::Buffer header
PROGRAM_SIZE = 36  # UpgradeableLoaderState::Program
CHUNK = 900


def _create(chain: Chain, payer: Keypair, account: Keypair, space: int) -> Instruction:
    return create_account(
        CreateAccountParams(
            from_pubkey=payer.pubkey(),
            to_pubkey=account.pubkey(),
            lamports=chain.rent(space),
            space=space,
            owner=LOADER,
        )
    )


def test_the_committed_so_deploys_through_the_upgradeable_loader_and_runs() -> None:
    chain = Chain(deploy=False)
    deployer, buffer = chain.wallet(), Keypair()
    program = c.load_program_keypair()  # the program id is the committed keypair's
    so = c.SO_PATH.read_bytes()
    assert chain.svm.get_account(program.pubkey()) is None

    init = Instruction(
        LOADER,
        struct.pack("<I", 0),
        [AccountMeta(buffer.pubkey(), False, True), AccountMeta(deployer.pubkey(), False, False)],
    )
    chain.ok([_create(chain, deployer, buffer, BUFFER_METADATA + len(so)), init], deployer, buffer)
    for offset in range(0, len(so), CHUNK):
        chunk = so[offset : offset + CHUNK]
        write = Instruction(
            LOADER,
            struct.pack("<IIQ", 1, offset, len(chunk)) + chunk,
            [AccountMeta(buffer.pubkey(), False, True), AccountMeta(deployer.pubkey(), True, False)],
        )
        chain.ok(write, deployer)

    programdata = Pubkey.find_program_address([bytes(program.pubkey())], LOADER)[0]
    deploy = Instruction(
        LOADER,
        struct.pack("<IQ", 2, len(so)),
        [
            AccountMeta(deployer.pubkey(), True, True),
            AccountMeta(programdata, False, True),
            AccountMeta(program.pubkey(), False, True),
            AccountMeta(buffer.pubkey(), False, True),
            AccountMeta(RENT, False, False),
            AccountMeta(CLOCK, False, False),
            AccountMeta(c.SYSTEM_PROGRAM_ID, False, False),
            AccountMeta(deployer.pubkey(), True, False),
        ],
    )
    result = chain.ok([_create(chain, deployer, program, PROGRAM_SIZE), deploy], deployer, program)
    assert any("Deployed program" in line for line in result.logs), result.logs

    # A program deployed in this slot becomes visible in the next one.
    chain.svm.warp_to_slot(chain.svm.get_clock().slot + 1)
    chain.initialize()
    fan = chain.wallet()
    pda = chain.creator("x", "deployed")
    gift = chain.ok(c.gift_sol_ix(fan.pubkey(), "x", "deployed", 10**9, "", "", chain.treasury.pubkey()), fan)
    assert gift.only("GiftSent")["creator"] == pda
    assert chain.balance(pda) == chain.rent(154) + 10**9 - 10**9 * 250 // 10_000
