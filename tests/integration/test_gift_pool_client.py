"""client.py agrees with idl.json: every builder's data decodes with the IDL's argument types to the
values given, and its accounts have the IDL's order, signer and writable flags and fixed addresses.
Also the handle key rules (ASCII-lowercase, validation) the program applies."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from gift_pool_harness import IDL, _Reader
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from programs.gift_pool import client as c

A, B, C, D = (Keypair.from_seed(bytes([i]) * 32).pubkey() for i in range(1, 5))
MINT = Keypair.from_seed(bytes([9]) * 32).pubkey()
IXS = {ix["name"]: ix for ix in IDL["instructions"]}

CASES: list[tuple[Instruction, str, dict[str, Any]]] = [
    (c.initialize_ix(A, B, C, 250), "initialize", {"verifier": B, "treasury": C, "fee_bps": 250}),
    (c.register_creator_ix("x", "Alice", A), "register_creator", {"platform": "x", "handle": "Alice"}),
    (c.bind_creator_ix("x", "alice", B, C), "bind_creator", {"authority": B}),
    (
        c.gift_sol_ix(A, "x", "alice", 5, "post", "memo", D),
        "gift_sol",
        {"amount": 5, "post_id": "post", "memo": "memo"},
    ),
    (
        c.gift_token_ix(A, "x", "alice", MINT, 7, "p", "é", D),
        "gift_token",
        {"amount": 7, "post_id": "p", "memo": "é"},
    ),
    (
        c.batch_gift_ix(A, [c.Gift("x", "a", 1, "p1", "m1"), c.Gift("youtube", "b", 2)], D),
        "batch_gift",
        {
            "gifts": [
                {"amount": 1, "post_id": "p1", "memo": "m1"},
                {"amount": 2, "post_id": "", "memo": ""},
            ]
        },
    ),
    (c.withdraw_ix("x", "alice", A, 9), "withdraw", {"amount": 9}),
    (c.withdraw_token_ix("x", "alice", A, MINT, 9), "withdraw", {"amount": 9}),
    (c.batch_withdraw_ix(A, [("x", "a", B), ("x", "b", C)]), "batch_withdraw", {}),
    (c.set_paused_ix(A, True), "set_paused", {"paused": True}),
    (c.set_fee_ix(A, 1000), "set_fee", {"fee_bps": 1000}),
    (c.set_admin_ix(A, B), "set_admin", {"new_admin": B}),
    (c.set_verifier_ix(A, B), "set_verifier", {"new_verifier": B}),
]


def test_every_idl_instruction_has_a_builder() -> None:
    assert {name for _, name, _ in CASES} == set(IXS)


@pytest.mark.parametrize(("ix", "name", "args"), CASES, ids=[f"{n}-{i}" for i, (_, n, _) in enumerate(CASES)])
def test_builder_matches_the_idl(ix: Instruction, name: str, args: dict[str, Any]) -> None:
    spec = IXS[name]
    assert ix.program_id == c.PROGRAM_ID
    data = bytes(ix.data)
    assert list(data[:8]) == spec["discriminator"]
    reader = _Reader(data[8:])
    decoded = {arg["name"]: reader.value(arg["type"]) for arg in spec["args"]}
    assert reader.pos == len(data) - 8, "trailing argument bytes"
    assert decoded == args
    declared = spec["accounts"]
    required = [a for a in declared if not a.get("optional")]
    assert len(ix.accounts) >= len(required)
    for meta, account in zip(ix.accounts, declared, strict=False):
        assert meta.is_signer == account.get("signer", False), (name, account["name"])
        assert meta.is_writable == account.get("writable", False), (name, account["name"])
        if "address" in account:
            assert meta.pubkey == Pubkey.from_string(account["address"])
        if account["name"] == "config":
            assert meta.pubkey == c.config_pda()
        if account["name"] == "creator":
            assert meta.pubkey in {c.creator_pda("x", "alice"), c.creator_pda("x", "a")}


def test_handle_key_is_ascii_case_insensitive() -> None:
    assert c.handle_key("x", "Alice_Memes") == hashlib.sha256(b"x:alice_memes").digest()
    assert c.creator_pda("x", "ALICE") == c.creator_pda("x", "alice") != c.creator_pda("youtube", "alice")
    assert (
        c.creator_pda("x", "alice")
        == Pubkey.find_program_address([b"creator", hashlib.sha256(b"x:alice").digest()], c.PROGRAM_ID)[0]
    )
    assert c.config_pda() == Pubkey.find_program_address([b"config"], c.PROGRAM_ID)[0]


@pytest.mark.parametrize(
    ("platform", "handle"),
    [("X", "a"), ("", "a"), ("p" * 17, "a"), ("x", ""), ("x", "a b"), ("x", "a:b"), ("x", "é"), ("x", "h" * 33)],
)
def test_bad_names_raise_client_error(platform: str, handle: str) -> None:
    with pytest.raises(c.ClientError):
        c.register_creator_ix(platform, handle, A)


@pytest.mark.parametrize(
    ("amount", "post_id", "memo"), [(0, "", ""), (-1, "", ""), (2**64, "", ""), (1, "p" * 65, ""), (1, "", "m" * 65)]
)
def test_bad_gifts_raise_client_error(amount: int, post_id: str, memo: str) -> None:
    with pytest.raises(c.ClientError):
        c.gift_sol_ix(A, "x", "alice", amount, post_id, memo, D)


def test_program_id_comes_from_the_committed_keypair() -> None:
    assert c.load_program_keypair().pubkey() == c.PROGRAM_ID
    assert IDL["address"] == str(c.PROGRAM_ID)
