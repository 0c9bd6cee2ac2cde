"""The gift pool's happy paths, in the real SVM running the committed .so: balances, accounts and the
events decoded with idl.json, field by field."""

from __future__ import annotations

import pytest
from gift_pool_harness import NOW, TX_FEE, Chain, decode_account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.account import Account
from solders.keypair import Keypair

from programs.gift_pool import client as c

CREATOR_SIZE = 154
CONFIG_SIZE = 116


@pytest.fixture
def chain() -> Chain:
    chain = Chain(fee_bps=250)
    chain.initialize()
    return chain


def test_initialize_creates_config_and_emits_config_updated() -> None:
    chain = Chain(fee_bps=300)
    before = chain.balance(chain.admin.pubkey())
    result = chain.initialize()
    admin, verifier, treasury = chain.admin.pubkey(), chain.verifier.pubkey(), chain.treasury.pubkey()
    assert result.events == [
        (
            "ConfigUpdated",
            {
                "admin": admin,
                "previous_admin": admin,
                "verifier": verifier,
                "previous_verifier": verifier,
                "treasury": treasury,
                "fee_bps": 300,
                "previous_fee_bps": 300,
                "timestamp": NOW,
            },
        )
    ]
    config = decode_account("Config", chain.data(c.config_pda()))
    assert config == {
        "admin": admin,
        "verifier": verifier,
        "treasury": treasury,
        "creator_count": 0,
        "fee_bps": 300,
        "paused": False,
        "bump": config["bump"],
    }
    rent = chain.rent(CONFIG_SIZE)
    assert chain.balance(c.config_pda()) == rent
    assert chain.balance(admin) == before - rent - TX_FEE
    # A second initialize cannot take the pool over.
    chain.send(c.initialize_ix(admin, admin, admin, 0), chain.admin).assert_error("AlreadyInitialized")


def test_register_bind_gift_withdraw_sol(chain: Chain) -> None:
    fan, alice = chain.wallet(), chain.wallet(1)
    payer = chain.wallet(1)
    result = chain.ok(c.register_creator_ix("x", "Alice_Memes", payer.pubkey()), payer)
    pda = c.creator_pda("x", "alice_memes")  # the key is case-insensitive
    assert result.only("CreatorRegistered") == {
        "creator": pda,
        "platform": "x",
        "handle": "Alice_Memes",
        "registered_by": payer.pubkey(),
        "timestamp": NOW,
    }
    rent = chain.rent(CREATOR_SIZE)
    assert chain.balance(pda) == rent

    # A gift before the creator joined waits in escrow in the PDA.
    treasury_before, fan_before = chain.balance(chain.treasury.pubkey()), chain.balance(fan.pubkey())
    amount = 1_000_000_007
    fee = amount * 250 // 10_000
    result = chain.ok(
        c.gift_sol_ix(
            fan.pubkey(), "x", "alice_memes", amount, "1890000000000000001", "gm ser", chain.treasury.pubkey()
        ),
        fan,
    )
    assert result.events == [
        (
            "GiftSent",
            {
                "fan": fan.pubkey(),
                "creator": pda,
                "mint": None,
                "amount": amount,
                "fee": fee,
                "post_id": "1890000000000000001",
                "memo": "gm ser",
                "timestamp": NOW,
            },
        )
    ]
    assert chain.balance(fan.pubkey()) == fan_before - amount - TX_FEE
    assert chain.balance(chain.treasury.pubkey()) == treasury_before + fee
    assert chain.balance(pda) == rent + amount - fee

    result = chain.ok(c.bind_creator_ix("x", "ALICE_MEMES", alice.pubkey(), chain.verifier.pubkey()), chain.verifier)
    assert result.only("CreatorBound") == {
        "creator": pda,
        "platform": "x",
        "handle": "Alice_Memes",
        "authority": alice.pubkey(),
        "previous_authority": None,
        "verifier": chain.verifier.pubkey(),
        "timestamp": NOW,
    }

    alice_before = chain.balance(alice.pubkey())
    result = chain.ok(c.withdraw_ix("x", "alice_memes", alice.pubkey(), 400_000_000), alice)
    assert result.only("Withdrawn") == {
        "creator": pda,
        "authority": alice.pubkey(),
        "destination": alice.pubkey(),
        "mint": None,
        "amount": 400_000_000,
        "by_admin": False,
        "timestamp": NOW,
    }
    assert chain.balance(alice.pubkey()) == alice_before + 400_000_000 - TX_FEE
    assert chain.balance(pda) == rent + amount - fee - 400_000_000

    creator = decode_account("Creator", chain.data(pda))
    assert creator["authority"] == alice.pubkey() and creator["bound"] is True
    assert creator["sol_received"] == amount - fee
    assert creator["sol_withdrawn"] == 400_000_000
    assert creator["gift_count"] == 1
    assert (creator["platform"], creator["handle"]) == ("x", "Alice_Memes")
    assert creator["handle_key"] == c.handle_key("x", "alice_memes")
    # The conservation rule the warehouse relies on: received - withdrawn = balance above rent.
    assert creator["sol_received"] - creator["sol_withdrawn"] == chain.balance(pda) - rent
    assert decode_account("Config", chain.data(c.config_pda()))["creator_count"] == 1


def test_withdraw_to_another_destination_and_the_whole_balance(chain: Chain) -> None:
    fan, alice, cold = chain.wallet(), chain.wallet(1), Keypair()
    pda = chain.creator("youtube", "@Bob", alice)
    chain.ok(c.gift_sol_ix(fan.pubkey(), "youtube", "@bob", 2 * 10**9, "vid", "", chain.treasury.pubkey()), fan)
    available = chain.balance(pda) - chain.rent(CREATOR_SIZE)
    assert available == 2 * 10**9 - 5 * 10**7
    result = chain.ok(c.withdraw_ix("youtube", "@bob", alice.pubkey(), available, cold.pubkey()), alice)
    assert result.only("Withdrawn")["destination"] == cold.pubkey()
    assert chain.balance(cold.pubkey()) == available
    assert chain.balance(pda) == chain.rent(CREATOR_SIZE)  # rent exemption kept


def test_pause_and_unpause_emit_events(chain: Chain) -> None:
    result = chain.ok(c.set_paused_ix(chain.admin.pubkey(), True), chain.admin)
    assert result.events == [("Paused", {"admin": chain.admin.pubkey(), "timestamp": NOW})]
    assert decode_account("Config", chain.data(c.config_pda()))["paused"] is True
    result = chain.ok(c.set_paused_ix(chain.admin.pubkey(), False), chain.admin)
    assert result.events == [("Unpaused", {"admin": chain.admin.pubkey(), "timestamp": NOW})]
    assert decode_account("Config", chain.data(c.config_pda()))["paused"] is False


def test_fee_is_floored_and_zero_fee_gift_works(chain: Chain) -> None:
    fan = chain.wallet()
    pda = chain.creator("twitch", "streamer")
    treasury_before = chain.balance(chain.treasury.pubkey())
    # 39 * 250 / 10000 = 0.975 -> 0: the whole gift reaches the creator, no fee transfer.
    result = chain.ok(c.gift_sol_ix(fan.pubkey(), "twitch", "streamer", 39, "", "", chain.treasury.pubkey()), fan)
    assert result.only("GiftSent")["fee"] == 0
    assert chain.balance(chain.treasury.pubkey()) == treasury_before
    assert chain.balance(pda) == chain.rent(CREATOR_SIZE) + 39


def test_gift_token_and_withdraw_token(chain: Chain) -> None:
    fan, alice = chain.wallet(), chain.wallet(1)
    pda = chain.creator("x", "tokenqueen", alice)
    mint = chain.mint().pubkey()
    fan_ata = chain.token_account(fan.pubkey(), mint, 5_000_000)
    treasury_ata = chain.token_account(chain.treasury.pubkey(), mint)
    vault = c.associated_token_address(pda, mint)
    assert vault == chain.token_account(pda, mint)  # the vault is the creator PDA's associated token account

    # The client's usual transaction: create the vault idempotently, then gift.
    amount = 1_234_567
    fee = amount * 250 // 10_000
    result = chain.ok(
        [
            c.create_vault_ix(fan.pubkey(), "x", "tokenqueen", mint),
            c.gift_token_ix(fan.pubkey(), "x", "TokenQueen", mint, amount, "p1", "wagmi", chain.treasury.pubkey()),
        ],
        fan,
    )
    assert result.events == [
        (
            "GiftSent",
            {
                "fan": fan.pubkey(),
                "creator": pda,
                "mint": mint,
                "amount": amount,
                "fee": fee,
                "post_id": "p1",
                "memo": "wagmi",
                "timestamp": NOW,
            },
        )
    ]
    assert chain.token_balance(fan_ata) == 5_000_000 - amount
    assert chain.token_balance(treasury_ata) == fee
    assert chain.token_balance(vault) == amount - fee
    creator = decode_account("Creator", chain.data(pda))
    assert creator["gift_count"] == 1 and creator["sol_received"] == 0  # SOL totals untouched by tokens

    alice_ata = chain.token_account(alice.pubkey(), mint)
    result = chain.ok(c.withdraw_token_ix("x", "tokenqueen", alice.pubkey(), mint, 1_000_000), alice)
    assert result.only("Withdrawn") == {
        "creator": pda,
        "authority": alice.pubkey(),
        "destination": alice_ata,
        "mint": mint,
        "amount": 1_000_000,
        "by_admin": False,
        "timestamp": NOW,
    }
    assert chain.token_balance(alice_ata) == 1_000_000
    assert chain.token_balance(vault) == amount - fee - 1_000_000


def test_batch_gift_pays_each_creator(chain: Chain) -> None:
    fan = chain.wallet()
    pdas = [chain.creator("x", f"creator{i}") for i in range(3)]
    gifts = [c.Gift("x", f"creator{i}", (i + 1) * 10**8, f"post{i}", f"memo {i}") for i in range(3)]
    fan_before, treasury_before = chain.balance(fan.pubkey()), chain.balance(chain.treasury.pubkey())
    result = chain.ok(c.batch_gift_ix(fan.pubkey(), gifts, chain.treasury.pubkey()), fan)
    fees = [g.amount * 250 // 10_000 for g in gifts]
    assert [name for name, _ in result.events] == ["GiftSent"] * 3
    for (_, event), gift, pda, fee in zip(result.events, gifts, pdas, fees, strict=True):
        assert event == {
            "fan": fan.pubkey(),
            "creator": pda,
            "mint": None,
            "amount": gift.amount,
            "fee": fee,
            "post_id": gift.post_id,
            "memo": gift.memo,
            "timestamp": NOW,
        }
        assert chain.balance(pda) == chain.rent(CREATOR_SIZE) + gift.amount - fee
    total = sum(g.amount for g in gifts)
    assert chain.balance(fan.pubkey()) == fan_before - total - TX_FEE
    assert chain.balance(chain.treasury.pubkey()) == treasury_before + sum(fees)


def test_batch_withdraw_pays_every_bound_creator_its_whole_balance(chain: Chain) -> None:
    fan = chain.wallet()
    owners = [chain.wallet(1) for _ in range(3)]
    pdas = [chain.creator("youtube", f"chan{i}", owners[i]) for i in range(3)]
    for i in range(3):
        chain.ok(
            c.gift_sol_ix(fan.pubkey(), "youtube", f"chan{i}", (i + 2) * 10**9, "", "", chain.treasury.pubkey()), fan
        )
    rent = chain.rent(CREATOR_SIZE)
    expected = [chain.balance(pda) - rent for pda in pdas]
    before = [chain.balance(o.pubkey()) for o in owners]
    result = chain.ok(
        c.batch_withdraw_ix(chain.admin.pubkey(), [("youtube", f"chan{i}", owners[i].pubkey()) for i in range(3)]),
        chain.admin,
    )
    assert [name for name, _ in result.events] == ["Withdrawn"] * 3 + ["BatchPaid"]
    for i, (_, event) in enumerate(result.events[:3]):
        assert event == {
            "creator": pdas[i],
            "authority": owners[i].pubkey(),
            "destination": owners[i].pubkey(),
            "mint": None,
            "amount": expected[i],
            "by_admin": True,
            "timestamp": NOW,
        }
        assert chain.balance(owners[i].pubkey()) == before[i] + expected[i]
        assert chain.balance(pdas[i]) == rent
    assert result.events[3][1] == {
        "admin": chain.admin.pubkey(),
        "mint": None,
        "creators": 3,
        "total": sum(expected),
        "timestamp": NOW,
    }


def test_admin_settings_emit_config_updated(chain: Chain) -> None:
    admin, verifier, treasury = chain.admin.pubkey(), chain.verifier.pubkey(), chain.treasury.pubkey()
    base = {"treasury": treasury, "timestamp": NOW}
    result = chain.ok(c.set_fee_ix(admin, 1000), chain.admin)
    assert result.only("ConfigUpdated") == {
        **base,
        "admin": admin,
        "previous_admin": admin,
        "verifier": verifier,
        "previous_verifier": verifier,
        "fee_bps": 1000,
        "previous_fee_bps": 250,
    }
    new_verifier = chain.wallet(1)
    result = chain.ok(c.set_verifier_ix(admin, new_verifier.pubkey()), chain.admin)
    assert result.only("ConfigUpdated") == {
        **base,
        "admin": admin,
        "previous_admin": admin,
        "verifier": new_verifier.pubkey(),
        "previous_verifier": verifier,
        "fee_bps": 1000,
        "previous_fee_bps": 1000,
    }
    new_admin = chain.wallet(1)
    result = chain.ok(c.set_admin_ix(admin, new_admin.pubkey()), chain.admin)
    assert result.only("ConfigUpdated") == {
        **base,
        "admin": new_admin.pubkey(),
        "previous_admin": admin,
        "verifier": new_verifier.pubkey(),
        "previous_verifier": new_verifier.pubkey(),
        "fee_bps": 1000,
        "previous_fee_bps": 1000,
    }
    # The old admin has lost its powers; the new one has them.
    chain.send(c.set_fee_ix(admin, 0), chain.admin).assert_error("Unauthorized")
    chain.ok(c.set_fee_ix(new_admin.pubkey(), 0), new_admin)
    assert decode_account("Config", chain.data(c.config_pda()))["fee_bps"] == 0


def test_rebind_by_the_verifier_reports_the_previous_authority(chain: Chain) -> None:
    first, second = chain.wallet(1), chain.wallet(1)
    pda = chain.creator("x", "rebound", first)
    result = chain.ok(c.bind_creator_ix("x", "rebound", second.pubkey(), chain.verifier.pubkey()), chain.verifier)
    event = result.only("CreatorBound")
    assert (event["authority"], event["previous_authority"]) == (second.pubkey(), first.pubkey())
    assert decode_account("Creator", chain.data(pda))["authority"] == second.pubkey()
    chain.send(c.withdraw_ix("x", "rebound", first.pubkey(), 1), first).assert_error("Unauthorized")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(1, 2**62), fee_bps=st.integers(0, 1000))
def test_fee_is_exactly_floor_amount_times_bps_for_any_amount(amount: int, fee_bps: int) -> None:
    """The program computes amount * bps / 10000 without a 128-bit product; it must equal the exact floor."""
    chain = Chain(fee_bps=fee_bps)
    chain.initialize()
    fan = Keypair()
    chain.svm.set_account(fan.pubkey(), Account(amount + 10**9, b"", c.SYSTEM_PROGRAM_ID, False, 0))
    pda = chain.creator("x", "anyamount")
    treasury_before = chain.balance(chain.treasury.pubkey())
    result = chain.ok(c.gift_sol_ix(fan.pubkey(), "x", "anyamount", amount, "", "", chain.treasury.pubkey()), fan)
    fee = amount * fee_bps // 10_000
    assert result.only("GiftSent")["fee"] == fee
    assert chain.balance(chain.treasury.pubkey()) == treasury_before + fee
    assert chain.balance(pda) == chain.rent(CREATOR_SIZE) + amount - fee
