"""idl.json and the program agree: one scenario executes every instruction in the IDL, every event in the
IDL is emitted and decodes exactly (no byte left over), and the IDL's discriminators, errors and
address are the ones the program and the client use."""

from __future__ import annotations

import hashlib
import re

from gift_pool_harness import IDL, NOW, Chain, snake

from programs.gift_pool import client as c


def _disc(namespace: str, name: str) -> list[int]:
    return list(hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8])


def test_idl_header_discriminators_and_errors_match_the_program_sources() -> None:
    assert IDL["address"] == str(c.PROGRAM_ID)
    assert IDL["metadata"]["name"] == "gift_pool"
    for ix in IDL["instructions"]:
        assert ix["discriminator"] == _disc("global", ix["name"])
    for kind, namespace in (("events", "event"), ("accounts", "account")):
        for item in IDL[kind]:
            assert item["discriminator"] == _disc(namespace, item["name"])
    types = {t["name"] for t in IDL["types"]}
    assert {e["name"] for e in IDL["events"]} <= types
    assert {a["name"] for a in IDL["accounts"]} <= types
    # The errors the program logs (errors.h) are exactly the IDL's, with the same numbers and messages.
    source = (c.PROGRAM_DIR / "src" / "errors.h").read_text()
    logged = dict(re.findall(r'\(ErrText\)\{"(\w+)", "([^"]+)"\}', source))
    assert {e["code"]: e["name"] for e in IDL["errors"]} == c.ERRORS
    for error in IDL["errors"]:
        assert logged[error["name"]] == error["msg"]
    codes = [e["code"] for e in IDL["errors"]]
    assert codes == list(range(6000, 6000 + len(codes)))


def test_every_idl_instruction_runs_and_every_idl_event_decodes_exactly() -> None:
    chain = Chain(fee_bps=100)
    chain.initialize()
    fan, alice, bob = chain.wallet(), chain.wallet(1), chain.wallet(1)
    admin, verifier, treasury = chain.admin, chain.verifier, chain.treasury.pubkey()
    payer = chain.wallet(1)
    chain.ok(c.register_creator_ix("x", "alice", payer.pubkey()), payer)
    chain.ok(c.register_creator_ix("x", "bob", payer.pubkey()), payer)
    chain.ok(c.bind_creator_ix("x", "alice", alice.pubkey(), verifier.pubkey()), verifier)
    chain.ok(c.bind_creator_ix("x", "bob", bob.pubkey(), verifier.pubkey()), verifier)
    chain.ok(c.gift_sol_ix(fan.pubkey(), "x", "alice", 3 * 10**9, "p", "m", treasury), fan)
    mint = chain.mint().pubkey()
    chain.token_account(fan.pubkey(), mint, 10**6)
    chain.token_account(treasury, mint)
    chain.ok(
        [
            c.create_vault_ix(fan.pubkey(), "x", "alice", mint),
            c.gift_token_ix(fan.pubkey(), "x", "alice", mint, 10**5, "p", "", treasury),
        ],
        fan,
    )
    chain.ok(c.batch_gift_ix(fan.pubkey(), [c.Gift("x", "alice", 10**9), c.Gift("x", "bob", 2 * 10**9)], treasury), fan)
    chain.ok(c.withdraw_ix("x", "alice", alice.pubkey(), 10**9), alice)
    chain.token_account(alice.pubkey(), mint)
    chain.ok(c.withdraw_token_ix("x", "alice", alice.pubkey(), mint, 10**4), alice)
    chain.ok(c.batch_withdraw_ix(admin.pubkey(), [("x", "alice", alice.pubkey()), ("x", "bob", bob.pubkey())]), admin)
    chain.ok(c.set_paused_ix(admin.pubkey(), True), admin)
    chain.ok(c.set_paused_ix(admin.pubkey(), False), admin)
    chain.ok(c.set_fee_ix(admin.pubkey(), 50), admin)
    chain.ok(c.set_verifier_ix(admin.pubkey(), alice.pubkey()), admin)
    chain.ok(c.set_admin_ix(admin.pubkey(), bob.pubkey()), admin)

    executed = {snake(name) for r in chain.results for name in r.instructions}
    assert executed == {ix["name"] for ix in IDL["instructions"]}
    emitted = [event for r in chain.results for event in r.events]  # each decoded exactly, or send() raised
    assert {name for name, _ in emitted} == {e["name"] for e in IDL["events"]}
    assert all(fields["timestamp"] == NOW for _, fields in emitted)
    # Every emitted event has exactly the IDL's fields, in the IDL's order.
    types = {t["name"]: [f["name"] for f in t["type"]["fields"]] for t in IDL["types"]}
    for name, fields in emitted:
        assert list(fields) == types[name]
