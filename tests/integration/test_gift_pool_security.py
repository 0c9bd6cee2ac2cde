"""Adversarial transactions against the gift pool, in the real SVM: each must fail with the right
Anchor error (returned as Custom(N) and logged), emit nothing, and move nothing but the fee."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from gift_pool_harness import TX_FEE, Chain, decode_account
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from programs.gift_pool import client as c

FAKE_PROGRAM = Keypair().pubkey()  # an arbitrary other owner


@pytest.fixture
def chain() -> Chain:
    chain = Chain(fee_bps=250)
    chain.initialize()
    return chain


@contextmanager
def unchanged(chain: Chain, *keys: Pubkey, payer: Pubkey | None = None) -> Iterator[None]:
    """Asserts the accounts' lamports and data did not change (the payer loses exactly the fee)."""
    watched = set(keys) | {c.config_pda()}
    before = {k: (chain.balance(k), _data(chain, k)) for k in watched}
    payer_before = chain.balance(payer) if payer else 0
    yield
    for key, (lamports, data) in before.items():
        expected = lamports - TX_FEE if key == payer else lamports
        assert chain.balance(key) == expected, f"{key} lamports changed"
        assert _data(chain, key) == data, f"{key} data changed"
    if payer is not None and payer not in watched:
        assert chain.balance(payer) == payer_before - TX_FEE


def _data(chain: Chain, key: Pubkey) -> bytes:
    account = chain.svm.get_account(key)
    return bytes(account.data) if account else b""


def _funded_creator(chain: Chain, handle: str, authority: Keypair | None = None) -> Pubkey:
    fan = chain.wallet()
    pda = chain.creator("x", handle, authority)
    chain.ok(c.gift_sol_ix(fan.pubkey(), "x", handle, 5 * 10**9, "", "", chain.treasury.pubkey()), fan)
    return pda


def _with_accounts(ix: Instruction, replace: dict[int, AccountMeta]) -> Instruction:
    accounts = list(ix.accounts)
    for index, meta in replace.items():
        accounts[index] = meta
    return Instruction(ix.program_id, ix.data, accounts)


# ---- wrong signer ----
def test_admin_instructions_reject_a_non_admin(chain: Chain) -> None:
    mallory = chain.wallet(1)
    m = mallory.pubkey()
    for ix in (c.set_fee_ix(m, 0), c.set_admin_ix(m, m), c.set_verifier_ix(m, m), c.set_paused_ix(m, True)):
        with unchanged(chain, payer=m):
            chain.send(ix, mallory).assert_error("Unauthorized")


def test_admin_key_without_signature_is_rejected(chain: Chain) -> None:
    mallory = chain.wallet(1)
    ix = _with_accounts(c.set_fee_ix(chain.admin.pubkey(), 0), {1: AccountMeta(chain.admin.pubkey(), False, False)})
    with unchanged(chain, payer=mallory.pubkey()):
        chain.send(ix, mallory).assert_error("Unauthorized")


def test_rebind_by_a_non_verifier_is_rejected(chain: Chain) -> None:
    alice, mallory = chain.wallet(1), chain.wallet(1)
    pda = chain.creator("x", "victim", alice)
    with unchanged(chain, pda, payer=mallory.pubkey()):
        chain.send(c.bind_creator_ix("x", "victim", mallory.pubkey(), mallory.pubkey()), mallory).assert_error(
            "Unauthorized"
        )
    assert decode_account("Creator", chain.data(pda))["authority"] == alice.pubkey()


def test_withdraw_by_someone_else_is_rejected(chain: Chain) -> None:
    alice, mallory = chain.wallet(1), chain.wallet(1)
    pda = _funded_creator(chain, "rich", alice)
    with unchanged(chain, pda, payer=mallory.pubkey()):
        chain.send(c.withdraw_ix("x", "rich", mallory.pubkey(), 10**9), mallory).assert_error("Unauthorized")
    # ... also when the attacker names the real authority without its signature.
    ix = _with_accounts(
        c.withdraw_ix("x", "rich", alice.pubkey(), 10**9, mallory.pubkey()),
        {2: AccountMeta(alice.pubkey(), False, True)},
    )
    with unchanged(chain, pda, alice.pubkey(), payer=mallory.pubkey()):
        chain.send(ix, mallory).assert_error("Unauthorized")


def test_batch_withdraw_by_a_non_admin_is_rejected(chain: Chain) -> None:
    alice, mallory = chain.wallet(1), chain.wallet(1)
    pda = _funded_creator(chain, "batched", alice)
    with unchanged(chain, pda, alice.pubkey(), payer=mallory.pubkey()):
        chain.send(c.batch_withdraw_ix(mallory.pubkey(), [("x", "batched", alice.pubkey())]), mallory).assert_error(
            "Unauthorized"
        )


def test_withdraw_before_binding_is_rejected(chain: Chain) -> None:
    mallory = chain.wallet(1)
    pda = _funded_creator(chain, "unbound")
    with unchanged(chain, pda, payer=mallory.pubkey()):
        chain.send(c.withdraw_ix("x", "unbound", mallory.pubkey(), 1), mallory).assert_error("NotBound")


# ---- forged accounts ----
def test_forged_config_owned_by_another_program_is_rejected(chain: Chain) -> None:
    """A copy of the real config (with the attacker as admin) at another address, owned by another program."""
    mallory = chain.wallet(1)
    forged_key = Keypair().pubkey()
    data = bytearray(chain.data(c.config_pda()))
    data[8:40] = bytes(mallory.pubkey())
    for owner in (FAKE_PROGRAM, c.SYSTEM_PROGRAM_ID):
        chain.svm.set_account(forged_key, Account(10**9, bytes(data), owner, False, 0))
        ix = _with_accounts(c.set_fee_ix(mallory.pubkey(), 0), {0: AccountMeta(forged_key, False, True)})
        chain.send(ix, mallory).assert_error("InvalidAccount")


def test_forged_creator_owned_by_another_program_is_rejected(chain: Chain) -> None:
    alice, mallory = chain.wallet(1), chain.wallet(1)
    pda = _funded_creator(chain, "real", alice)
    forged = Keypair().pubkey()
    data = bytearray(chain.data(pda))
    data[40:72] = bytes(mallory.pubkey())  # the forged record names the attacker as authority
    chain.svm.set_account(forged, Account(10 * 10**9, bytes(data), FAKE_PROGRAM, False, 0))
    ix = _with_accounts(c.withdraw_ix("x", "real", mallory.pubkey(), 10**9), {1: AccountMeta(forged, False, True)})
    with unchanged(chain, forged, pda, payer=mallory.pubkey()):
        chain.send(ix, mallory).assert_error("InvalidAccount")


def test_config_passed_as_creator_is_rejected(chain: Chain) -> None:
    """Owned by the program but of the wrong type: the discriminator check catches it."""
    fan = chain.wallet()
    ix = _with_accounts(
        c.gift_sol_ix(fan.pubkey(), "x", "nobody", 10**9, "", "", chain.treasury.pubkey()),
        {1: AccountMeta(c.config_pda(), False, True)},
    )
    with unchanged(chain, payer=fan.pubkey()):
        chain.send(ix, fan).assert_error("InvalidAccount")


def test_wrong_treasury_is_rejected(chain: Chain) -> None:
    fan, mallory = chain.wallet(), chain.wallet(1)
    pda = chain.creator("x", "fees")
    with unchanged(chain, pda, mallory.pubkey(), payer=fan.pubkey()):
        chain.send(c.gift_sol_ix(fan.pubkey(), "x", "fees", 10**9, "", "", mallory.pubkey()), fan).assert_error(
            "InvalidAccount"
        )


def test_fake_system_program_is_rejected(chain: Chain) -> None:
    fan = chain.wallet()
    pda = chain.creator("x", "sysfake")
    ix = _with_accounts(
        c.gift_sol_ix(fan.pubkey(), "x", "sysfake", 10**9, "", "", chain.treasury.pubkey()),
        {4: AccountMeta(c.TOKEN_PROGRAM_ID, False, False)},
    )
    with unchanged(chain, pda, chain.treasury.pubkey(), payer=fan.pubkey()):
        chain.send(ix, fan).assert_error("InvalidAccount")


def test_token_gift_to_a_vault_that_is_not_the_creators_ata_is_rejected(chain: Chain) -> None:
    fan, mallory = chain.wallet(), chain.wallet(1)
    pda = chain.creator("x", "vaulted")
    mint = chain.mint().pubkey()
    chain.token_account(fan.pubkey(), mint, 10**6)
    chain.token_account(chain.treasury.pubkey(), mint)
    chain.token_account(pda, mint)
    thief = chain.token_account(mallory.pubkey(), mint)
    ix = _with_accounts(
        c.gift_token_ix(fan.pubkey(), "x", "vaulted", mint, 10**5, "", "", chain.treasury.pubkey()),
        {4: AccountMeta(thief, False, True)},
    )
    with unchanged(chain, thief, c.associated_token_address(fan.pubkey(), mint), payer=fan.pubkey()):
        chain.send(ix, fan).assert_error("InvalidAccount")
    # And the treasury's fee cannot be redirected to an account the treasury does not own.
    ix = _with_accounts(
        c.gift_token_ix(fan.pubkey(), "x", "vaulted", mint, 10**5, "", "", chain.treasury.pubkey()),
        {5: AccountMeta(thief, False, True)},
    )
    with unchanged(chain, thief, payer=fan.pubkey()):
        chain.send(ix, fan).assert_error("InvalidAccount")


# ---- wrong PDA ----
def test_register_with_the_pda_of_another_handle_is_rejected(chain: Chain) -> None:
    payer = chain.wallet(1)
    ix = _with_accounts(
        c.register_creator_ix("x", "alice", payer.pubkey()),
        {1: AccountMeta(c.creator_pda("x", "bob"), False, True)},
    )
    with unchanged(chain, c.creator_pda("x", "bob"), payer=payer.pubkey()):
        chain.send(ix, payer).assert_error("InvalidAccount")


def test_initialize_at_a_non_pda_address_is_rejected() -> None:
    chain = Chain()
    other = Keypair()
    ix = _with_accounts(
        c.initialize_ix(chain.admin.pubkey(), chain.verifier.pubkey(), chain.treasury.pubkey(), 100),
        {0: AccountMeta(other.pubkey(), True, True)},
    )
    chain.send(ix, chain.admin, other).assert_error("InvalidAccount")
    assert chain.svm.get_account(other.pubkey()) is None


def test_registering_twice_and_a_prefunded_pda(chain: Chain) -> None:
    payer = chain.wallet(1)
    chain.creator("x", "twice")
    with unchanged(chain, c.creator_pda("x", "twice"), payer=payer.pubkey()):
        chain.send(c.register_creator_ix("x", "TWICE", payer.pubkey()), payer).assert_error("AlreadyInitialized")
    # Somebody sends lamports to a handle's PDA before it is registered: registration still works.
    griefed = c.creator_pda("x", "griefed")
    chain.svm.airdrop(griefed, 1000)
    chain.ok(c.register_creator_ix("x", "griefed", payer.pubkey()), payer)
    assert decode_account("Creator", chain.data(griefed))["handle"] == "griefed"
    assert chain.balance(griefed) == chain.rent(154)


# ---- arithmetic, balances ----
def test_overflowing_creator_totals_is_rejected_before_any_transfer(chain: Chain) -> None:
    fan = chain.wallet()
    pda = chain.creator("x", "whale")
    account = chain.svm.get_account(pda)
    assert account is not None
    data = bytearray(account.data)
    struct.pack_into("<Q", data, 72, 2**64 - 10)  # sol_received near u64::MAX
    chain.svm.set_account(pda, Account(account.lamports, bytes(data), account.owner, False, 0))
    with unchanged(chain, pda, chain.treasury.pubkey(), payer=fan.pubkey()):
        chain.send(c.gift_sol_ix(fan.pubkey(), "x", "whale", 10**6, "", "", chain.treasury.pubkey()), fan).assert_error(
            "Overflow"
        )


def test_withdrawal_above_the_balance_is_rejected_and_rent_is_kept(chain: Chain) -> None:
    alice = chain.wallet(1)
    pda = _funded_creator(chain, "careful", alice)
    available = chain.balance(pda) - chain.rent(154)
    with unchanged(chain, pda, payer=alice.pubkey()):
        chain.send(c.withdraw_ix("x", "careful", alice.pubkey(), available + 1), alice).assert_error(
            "InsufficientFunds"
        )
    chain.ok(c.withdraw_ix("x", "careful", alice.pubkey(), available), alice)
    assert chain.balance(pda) == chain.rent(154)
    with unchanged(chain, pda, payer=alice.pubkey()):
        chain.send(c.withdraw_ix("x", "careful", alice.pubkey(), 1), alice).assert_error("InsufficientFunds")


def test_token_withdrawal_above_the_vault_is_rejected(chain: Chain) -> None:
    alice = chain.wallet(1)
    pda = chain.creator("x", "tokens", alice)
    mint = chain.mint().pubkey()
    vault = chain.token_account(pda, mint, 500)
    chain.token_account(alice.pubkey(), mint)
    with unchanged(chain, vault, payer=alice.pubkey()):
        chain.send(c.withdraw_token_ix("x", "tokens", alice.pubkey(), mint, 501), alice).assert_error(
            "InsufficientFunds"
        )


def test_bad_amounts_and_lengths(chain: Chain) -> None:
    fan = chain.wallet()
    chain.creator("x", "limits")
    gift = c.gift_sol_ix(fan.pubkey(), "x", "limits", 1, "", "", chain.treasury.pubkey())
    prefix = bytes(gift.data[:8])

    def raw(amount: int, post_id: bytes, memo: bytes) -> Instruction:
        args = (
            struct.pack("<Q", amount) + struct.pack("<I", len(post_id)) + post_id + struct.pack("<I", len(memo)) + memo
        )
        return Instruction(gift.program_id, prefix + args, list(gift.accounts))

    chain.send(raw(0, b"", b""), fan).assert_error("InvalidAmount")
    chain.send(raw(1, b"", b"m" * 65), fan).assert_error("MemoTooLong")
    chain.send(raw(1, b"p" * 65, b""), fan).assert_error("PostIdTooLong")
    chain.ok(raw(1, b"p" * 64, b"m" * 64), fan)
    truncated = Instruction(gift.program_id, bytes(gift.data[:-3]), list(gift.accounts))
    result = chain.send(truncated, fan)
    assert result.custom == 102 and "InstructionDidNotDeserialize" in "\n".join(result.logs)
    unknown = Instruction(gift.program_id, b"\x01" * 8, list(gift.accounts))
    result = chain.send(unknown, fan)
    assert result.custom == 101 and "InstructionFallbackNotFound" in "\n".join(result.logs)


def test_bad_names_are_rejected_by_the_program(chain: Chain) -> None:
    payer = chain.wallet(1)
    base = c.register_creator_ix("x", "ok", payer.pubkey())

    def raw(platform: bytes, handle: bytes) -> Instruction:
        args = struct.pack("<I", len(platform)) + platform + struct.pack("<I", len(handle)) + handle
        return Instruction(base.program_id, bytes(base.data[:8]) + args, list(base.accounts))

    chain.send(raw(b"x", b"h" * 33), payer).assert_error("HandleTooLong")
    chain.send(raw(b"x", b""), payer).assert_error("InvalidHandle")
    chain.send(raw(b"x", "é".encode()), payer).assert_error("InvalidHandle")
    chain.send(raw(b"x", b"a:b"), payer).assert_error("InvalidHandle")
    chain.send(raw(b"X", b"ok"), payer).assert_error("InvalidPlatform")
    chain.send(raw(b"p" * 17, b"ok"), payer).assert_error("InvalidPlatform")
    with pytest.raises(c.ClientError):
        c.register_creator_ix("x", "h" * 33, payer.pubkey())


def test_fee_above_the_cap_is_rejected(chain: Chain) -> None:
    ix = c.set_fee_ix(chain.admin.pubkey(), 1001)
    with unchanged(chain, payer=chain.admin.pubkey()):
        chain.send(ix, chain.admin).assert_error("FeeTooHigh")
    with pytest.raises(c.ClientError):
        c.initialize_ix(chain.admin.pubkey(), chain.admin.pubkey(), chain.admin.pubkey(), 1001)


# ---- batches ----
def test_a_batch_naming_the_same_creator_twice_is_rejected(chain: Chain) -> None:
    alice, fan = chain.wallet(1), chain.wallet()
    pda = _funded_creator(chain, "double", alice)
    with unchanged(chain, pda, alice.pubkey(), payer=chain.admin.pubkey()):
        chain.send(
            c.batch_withdraw_ix(chain.admin.pubkey(), [("x", "double", alice.pubkey())] * 2), chain.admin
        ).assert_error("DuplicateCreator")
    gifts = [c.Gift("x", "double", 10**9), c.Gift("x", "DOUBLE", 10**9)]
    with unchanged(chain, pda, chain.treasury.pubkey(), payer=fan.pubkey()):
        chain.send(c.batch_gift_ix(fan.pubkey(), gifts, chain.treasury.pubkey()), fan).assert_error("DuplicateCreator")


def test_batch_withdraw_to_a_destination_other_than_the_authority_is_rejected(chain: Chain) -> None:
    alice, mallory = chain.wallet(1), chain.wallet(1)
    pda = _funded_creator(chain, "payee", alice)
    with unchanged(chain, pda, mallory.pubkey(), payer=chain.admin.pubkey()):
        chain.send(
            c.batch_withdraw_ix(chain.admin.pubkey(), [("x", "payee", mallory.pubkey())]), chain.admin
        ).assert_error("InvalidAccount")


def test_batch_gift_with_accounts_not_matching_the_gifts_is_rejected(chain: Chain) -> None:
    fan = chain.wallet()
    chain.creator("x", "one")
    ix = c.batch_gift_ix(fan.pubkey(), [c.Gift("x", "one", 10**9)], chain.treasury.pubkey())
    extra = Instruction(ix.program_id, ix.data, [*ix.accounts, AccountMeta(c.creator_pda("x", "two"), False, True)])
    chain.send(extra, fan).assert_error("BatchMismatch")


# ---- paused ----
def test_nothing_moves_while_paused_except_the_admins_unpause(chain: Chain) -> None:
    alice, fan, mallory = chain.wallet(1), chain.wallet(), chain.wallet(1)
    pda = _funded_creator(chain, "frozen", alice)
    mint = chain.mint().pubkey()
    chain.token_account(fan.pubkey(), mint, 10**6)
    chain.token_account(chain.treasury.pubkey(), mint)
    chain.token_account(pda, mint, 10**3)
    chain.token_account(alice.pubkey(), mint)
    chain.ok(c.set_paused_ix(chain.admin.pubkey(), True), chain.admin)
    treasury = chain.treasury.pubkey()
    attempts = [
        (c.register_creator_ix("x", "newcomer", fan.pubkey()), fan),
        (c.bind_creator_ix("x", "frozen", mallory.pubkey(), chain.verifier.pubkey()), chain.verifier),
        (c.gift_sol_ix(fan.pubkey(), "x", "frozen", 10**9, "", "", treasury), fan),
        (c.gift_token_ix(fan.pubkey(), "x", "frozen", mint, 10**3, "", "", treasury), fan),
        (c.batch_gift_ix(fan.pubkey(), [c.Gift("x", "frozen", 10**9)], treasury), fan),
        (c.withdraw_ix("x", "frozen", alice.pubkey(), 10**9), alice),
        (c.withdraw_token_ix("x", "frozen", alice.pubkey(), mint, 10), alice),
        (c.batch_withdraw_ix(chain.admin.pubkey(), [("x", "frozen", alice.pubkey())]), chain.admin),
    ]
    for ix, signer in attempts:
        with unchanged(chain, pda, treasury, c.associated_token_address(pda, mint), payer=signer.pubkey()):
            chain.send(ix, signer).assert_error("Paused")
    chain.send(c.set_paused_ix(mallory.pubkey(), False), mallory).assert_error("Unauthorized")
    chain.ok(c.set_paused_ix(chain.admin.pubkey(), False), chain.admin)
    chain.ok(c.gift_sol_ix(fan.pubkey(), "x", "frozen", 10**9, "", "", treasury), fan)


def test_an_authority_cannot_drain_another_creators_vault(chain: Chain) -> None:
    alice, bob = chain.wallet(1), chain.wallet(1)
    chain.creator("x", "alicev", alice)
    bob_pda = chain.creator("x", "bobv", bob)
    mint = chain.mint().pubkey()
    bob_vault = chain.token_account(bob_pda, mint, 10**6)
    alice_ata = chain.token_account(alice.pubkey(), mint)
    ix = _with_accounts(
        c.withdraw_token_ix("x", "alicev", alice.pubkey(), mint, 10**6), {4: AccountMeta(bob_vault, False, True)}
    )
    with unchanged(chain, bob_vault, alice_ata, payer=alice.pubkey()):
        chain.send(ix, alice).assert_error("InvalidAccount")
    assert chain.token_balance(bob_vault) == 10**6


def test_token_gift_from_an_account_of_another_mint_is_rejected(chain: Chain) -> None:
    fan = chain.wallet()
    pda = chain.creator("x", "mints")
    mint, other = chain.mint().pubkey(), chain.mint().pubkey()
    chain.token_account(chain.treasury.pubkey(), mint)
    chain.token_account(pda, mint)
    wrong = chain.token_account(fan.pubkey(), other, 10**6)
    ix = _with_accounts(
        c.gift_token_ix(fan.pubkey(), "x", "mints", mint, 10**5, "", "", chain.treasury.pubkey()),
        {3: AccountMeta(wrong, False, True)},
    )
    with unchanged(chain, wrong, c.associated_token_address(pda, mint), payer=fan.pubkey()):
        chain.send(ix, fan).assert_error("InvalidAccount")


def test_a_token_gift_above_the_fans_balance_is_rejected(chain: Chain) -> None:
    fan = chain.wallet()
    pda = chain.creator("x", "broke")
    mint = chain.mint().pubkey()
    fan_ata = chain.token_account(fan.pubkey(), mint, 100)
    chain.token_account(chain.treasury.pubkey(), mint)
    vault = chain.token_account(pda, mint)
    with unchanged(chain, fan_ata, vault, payer=fan.pubkey()):
        chain.send(
            c.gift_token_ix(fan.pubkey(), "x", "broke", mint, 101, "", "", chain.treasury.pubkey()), fan
        ).assert_error("InsufficientFunds")


def test_withdrawals_that_would_move_nothing_are_rejected(chain: Chain) -> None:
    """A vault paying itself, or a PDA bound as its own authority, would emit a Withdrawn that moved nothing."""
    alice = chain.wallet(1)
    pda = chain.creator("x", "selfpay", alice)
    mint = chain.mint().pubkey()
    vault = chain.token_account(pda, mint, 1000)
    ix = _with_accounts(
        c.withdraw_token_ix("x", "selfpay", alice.pubkey(), mint, 10), {3: AccountMeta(vault, False, True)}
    )
    with unchanged(chain, vault, payer=alice.pubkey()):
        chain.send(ix, alice).assert_error("InvalidAccount")
    with unchanged(chain, pda, payer=chain.verifier.pubkey()):
        chain.send(c.bind_creator_ix("x", "selfpay", pda, chain.verifier.pubkey()), chain.verifier).assert_error(
            "InvalidAccount"
        )
