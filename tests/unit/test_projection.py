"""The projection from decoded transactions to warehouse rows: the gift pool's events to typed tables,
failed transactions to failed attempts only, truncated logs recovered from args and the fee in force,
hostile strings kept as storable text with their exact bytes."""

from __future__ import annotations

from typing import Any

import pytest

from indexer.decode.borsh import LossyText, text_of
from indexer.decode.model import DecodedTransaction, Event, Instruction, TokenBalance, TxError
from indexer.projection import FeeChange, FeeSchedule, Projector, Rows, fee_of
from warehouse.sink import columns

PROGRAM = "AnjLp8A7ht9WpQwi6MwtfoS5jyprBZy4r4DpMgSNTjjQ"
FAN, CREATOR, TREASURY, CONFIG, ADMIN = "Fan1", "Creator1", "Treasury1", "Config1", "Admin1"


def tx(
    *,
    instructions: tuple[Instruction, ...],
    events: tuple[Event, ...] = (),
    error: TxError | None = None,
    truncated: bool = False,
    keys: tuple[str, ...] = (FAN, CREATOR, TREASURY, CONFIG, PROGRAM),
    pre: tuple[int, ...] = (10**9, 0, 0, 0, 1),
    post: tuple[int, ...] = (10**9, 0, 0, 0, 1),
    failed_events: tuple[Event, ...] = (),
    pre_tokens: tuple[TokenBalance, ...] = (),
    post_tokens: tuple[TokenBalance, ...] = (),
) -> DecodedTransaction:
    return DecodedTransaction(
        signature="Sig1", slot=42, block_time=1_700_000_000, fee=5000, fee_payer=FAN, compute_units=2326,
        success=error is None, error=error, logs_truncated=truncated, account_keys=keys, pre_balances=pre,
        post_balances=post, pre_token_balances=pre_tokens, post_token_balances=post_tokens,
        instructions=instructions, events=events, failed_events=failed_events,
    )  # fmt: skip


def gift_ix(path: str = "0", *, complete: bool = True, name: str = "gift_sol", amount: int = 1000) -> Instruction:
    accounts = {"config": CONFIG, "creator": CREATOR, "fan": FAN, "treasury": TREASURY}
    if name == "gift_token":
        accounts = {**accounts, "treasury_token": "TreasuryAta", "mint": "Meme"}
    return Instruction(
        path=path, program_id=PROGRAM, accounts=tuple(accounts.values()), data=b"", stack_height=1, name=name,
        args={"amount": amount, "post_id": "post-7", "memo": "gm"}, named_accounts=accounts, logs_complete=complete,
    )  # fmt: skip


def gift_event(path: str = "0", index: int = 0) -> Event:
    fields = {"fan": FAN, "creator": CREATOR, "mint": None, "amount": 1000, "fee": 25, "post_id": "post-7",
              "memo": "gm", "timestamp": 1_700_000_000}  # fmt: skip
    return Event(path, index, PROGRAM, "GiftSent", fields, "log")


def initialized(fee_bps: int = 250, slot: int = 1) -> FeeSchedule:
    """The fee history of a pool initialized at `slot` with `fee_bps`."""
    return FeeSchedule([FeeChange(slot, None, "Init", "0", fee_bps, fee_bps)])


def project(decoded: DecodedTransaction, projector: Projector | None = None) -> dict[str, list[dict[str, Any]]]:
    rows = Rows()
    (projector or Projector(PROGRAM, fees=initialized())).project(decoded, rows, commitment="confirmed")
    return {
        table: [dict(zip(columns(table), record, strict=True)) for record in records]
        for table, records in rows.records().items()
    }


def test_a_gift_becomes_one_gift_row_with_its_transaction() -> None:
    out = project(tx(instructions=(gift_ix(),), events=(gift_event(),)))
    (gift,) = out["gifts"]
    assert (gift["signature"], gift["ix_path"], gift["event_index"], gift["slot"]) == ("Sig1", "0", 0, 42)
    assert (gift["creator"], gift["fan"], gift["mint"], gift["amount"], gift["fee"]) == (CREATOR, FAN, None, 1000, 25)
    assert (gift["post_id"], gift["memo"], gift["derived"], gift["commitment"]) == ("post-7", "gm", False, "confirmed")
    (row,) = out["transactions"]
    assert row["success"] is True and row["fee"] == 5000 and row["compute_units"] == 2326
    assert [e["name"] for e in out["decoded_events"]] == ["GiftSent"]
    assert [i["name"] for i in out["decoded_instructions"]] == ["gift_sol"]
    assert "failed_attempts" not in out


def test_a_failed_transaction_is_a_failed_attempt_and_never_a_gift() -> None:
    error = TxError({"InstructionError": [0, {"Custom": 6003}]}, 0, PROGRAM, 6003, "Paused")
    out = project(tx(instructions=(gift_ix(),), error=error, failed_events=(gift_event(),)))
    assert "gifts" not in out and "decoded_events" not in out
    (attempt,) = out["failed_attempts"]
    assert (attempt["instruction"], attempt["error_code"], attempt["error_name"]) == ("gift_sol", 6003, "Paused")
    assert out["transactions"][0]["success"] is False


def test_a_gift_lost_to_a_truncated_log_is_rebuilt_from_args_and_the_fee_in_force() -> None:
    decoded = tx(
        instructions=(gift_ix(complete=False),),
        truncated=True,
        pre=(10**9, 0, 7_000, 0, 1),
        post=(10**9 - 1000, 975, 7_025, 0, 1),
    )
    (gift,) = project(decoded)["gifts"]
    assert (gift["amount"], gift["fee"], gift["post_id"], gift["derived"]) == (1000, 25, "post-7", True)
    # an event the log did keep is not doubled
    kept = tx(instructions=(gift_ix(complete=False),), events=(gift_event(),), truncated=True)
    assert len(project(kept)["gifts"]) == 1


def test_a_token_gift_lost_to_a_truncated_log_takes_its_fee_from_the_token_balances() -> None:
    def balance(amount: int) -> TokenBalance:
        return TokenBalance(5, "TreasuryAta", "Meme", TREASURY, amount)

    decoded = tx(
        instructions=(gift_ix(name="gift_token", amount=4000, complete=False),),
        truncated=True,
        pre_tokens=(balance(100),),
        post_tokens=(balance(200),),
    )
    (gift,) = project(decoded)["gifts"]
    assert (gift["mint"], gift["amount"], gift["fee"], gift["derived"]) == ("Meme", 4000, 100, True)


def test_events_a_truncated_log_lost_and_nothing_rebuilt_are_named() -> None:
    def ix(name: str, path: str, accounts: tuple[str, ...] = (), args: dict[str, Any] | None = None) -> Instruction:
        return Instruction(path, PROGRAM, accounts, b"", 1, name=name, args=args or {}, logs_complete=False)

    paid = {"creator": CREATOR, "authority": "A", "destination": "A", "mint": None, "amount": 5, "by_admin": False}
    withdrawn = Event("1", 0, PROGRAM, "Withdrawn", paid, "log")
    batch = ix("batch_gift", "2", args={"gifts": [{"amount": 1}, {"amount": 2}, {"amount": 3}]})
    payout = ix("batch_withdraw", "3", accounts=("Config", "Admin", "C1", "D1", "C2", "D2"))
    decoded = tx(
        instructions=(gift_ix(complete=False), ix("withdraw", "1"), batch, payout, ix("withdraw", "4")),
        events=(withdrawn, gift_event("2", 0), Event("3", 0, PROGRAM, "Withdrawn", paid, "log")),
        truncated=True, pre=(10**9, 0, 7_000, 0, 1), post=(10**9 - 1000, 975, 7_025, 0, 1),
    )  # fmt: skip
    lost = Projector(PROGRAM, fees=initialized()).project(decoded, Rows(), commitment="confirmed")
    assert lost == [  # the single gift was rebuilt; the complete withdraw at 1 lost nothing
        "instruction 2 (batch_gift): 2 event(s) lost to the truncated log",
        "instruction 3 (batch_withdraw): 2 event(s) lost to the truncated log",
        "instruction 4 (withdraw): 1 event(s) lost to the truncated log",
    ]
    assert (
        Projector(PROGRAM).project(tx(instructions=(gift_ix(),), events=(gift_event(),)), Rows(), commitment="c") == []
    )


def test_config_changes_are_admin_actions_named_by_their_instruction() -> None:
    fields = {"admin": ADMIN, "previous_admin": ADMIN, "verifier": "V", "previous_verifier": "V",
              "treasury": TREASURY, "fee_bps": 300, "previous_fee_bps": 250, "timestamp": 1}  # fmt: skip
    set_fee = Instruction("0", PROGRAM, (CONFIG, ADMIN), b"", 1, name="set_fee", args={"fee_bps": 300})
    out = project(tx(instructions=(set_fee,), events=(Event("0", 0, PROGRAM, "ConfigUpdated", fields, "log"),)))
    (action,) = out["admin_actions"]
    assert (action["kind"], action["actor"], action["details"]["fee_bps"]) == ("fee_change", ADMIN, 300)


def test_a_rebind_is_a_binding_and_an_admin_action() -> None:
    fields = {"creator": CREATOR, "platform": "x", "handle": "Alice", "authority": "New", "previous_authority": "Old",
              "verifier": "V", "timestamp": 1}  # fmt: skip
    bind = Instruction("0", PROGRAM, (), b"", 1, name="bind_creator")
    out = project(tx(instructions=(bind,), events=(Event("0", 0, PROGRAM, "CreatorBound", fields, "cpi"),)))
    assert [(b["authority"], b["previous_authority"]) for b in out["creator_bindings"]] == [("New", "Old")]
    assert [(a["kind"], a["details"]["previous"]) for a in out["admin_actions"]] == [("rebind", "Old")]


def test_events_of_other_programs_are_not_the_gift_pools() -> None:
    other = Event("0", 0, "OtherProgram1111111111111111111111111111111", "GiftSent", gift_event().fields, "log")
    out = project(tx(instructions=(gift_ix(),), events=(other,)))
    assert "gifts" not in out and "decoded_events" not in out


def test_a_failed_projection_rolls_back_only_that_transaction() -> None:
    rows = Rows()
    projector = Projector(PROGRAM)
    projector.project(tx(instructions=(gift_ix(),), events=(gift_event(),)), rows, commitment="confirmed")
    mark = rows.mark()
    broken = Event("1", 0, PROGRAM, "GiftSent", {"fan": FAN}, "log")  # fields missing: a KeyError half-way
    try:
        projector.project(
            DecodedTransaction(**{**_fields(tx(instructions=(gift_ix("1"),), events=(broken,))), "signature": "Sig2"}),
            rows,
            commitment="confirmed",
        )
    except KeyError:
        rows.rollback(mark)
    assert {r[0] for r in rows.records()["transactions"]} == {"Sig1"}
    assert len(rows.records()["gifts"]) == 1 and rows.events == 1


def _fields(decoded: DecodedTransaction) -> dict[str, Any]:
    return {name: getattr(decoded, name) for name in DecodedTransaction.__dataclass_fields__}


SOL = 10**9


def test_a_rebuilt_gifts_fee_is_the_programs_not_the_treasurys_balance_change() -> None:
    # two 1-SOL gifts and an unrelated 0.1-SOL transfer to the treasury in one transaction whose log was cut:
    # the treasury gained 0.15 SOL, but each gift paid exactly 2.5 % of 1 SOL
    treasury_gain = 2 * 25_000_000 + SOL // 10
    decoded = tx(
        instructions=(gift_ix("0", complete=False, amount=SOL), gift_ix("1", complete=False, amount=SOL)),
        truncated=True,
        pre=(10 * SOL, 0, 7_000, 0, 1),
        post=(10 * SOL - 2 * SOL - SOL // 10, 2 * SOL - 50_000_000, 7_000 + treasury_gain, 0, 1),
    )
    gifts = project(decoded)["gifts"]
    assert [(g["ix_path"], g["amount"], g["fee"], g["derived"]) for g in gifts] == [
        ("0", SOL, 25_000_000, True),
        ("1", SOL, 25_000_000, True),
    ]


def test_a_rebuilt_gift_takes_the_fee_in_force_at_its_slot_across_fee_changes() -> None:
    def config_updated(path: str, fee_bps: int, previous: int) -> Event:
        fields = {"admin": ADMIN, "previous_admin": ADMIN, "verifier": "V", "previous_verifier": "V",
                  "treasury": TREASURY, "fee_bps": fee_bps, "previous_fee_bps": previous, "timestamp": 1}  # fmt: skip
        return Event(path, 0, PROGRAM, "ConfigUpdated", fields, "log")

    def at(slot: int, signature: str, decoded: DecodedTransaction) -> DecodedTransaction:
        return DecodedTransaction(**{**_fields(decoded), "slot": slot, "signature": signature})

    projector = Projector(PROGRAM, fees=initialized(250, slot=1))
    set_fee = Instruction("0", PROGRAM, (CONFIG, ADMIN), b"", 1, name="set_fee", args={"fee_bps": 1000})
    truncated_gift = tx(instructions=(gift_ix(complete=False, amount=12_345),), truncated=True)
    before = project(at(10, "Before", truncated_gift), projector)["gifts"][0]
    project(at(20, "SetFee", tx(instructions=(set_fee,), events=(config_updated("0", 1000, 250),))), projector)
    after = project(at(30, "After", truncated_gift), projector)["gifts"][0]
    assert (before["fee"], after["fee"]) == (fee_of(12_345, 250), fee_of(12_345, 1000)) == (308, 1234)
    # a replay of the earlier slot, after the change was seen, still takes the fee of its own slot
    assert project(at(10, "Before", truncated_gift), projector)["gifts"][0]["fee"] == 308
    # the change in the same transaction, before the gift, applies to it; one in the same slot in another
    # transaction of unknown position leaves the fee unknown: the gift is named as lost, not invented
    both = tx(
        instructions=(set_fee, gift_ix("1", complete=False, amount=12_345)),
        events=(config_updated("0", 500, 1000),),
        truncated=True,
    )
    assert project(at(40, "Both", both), projector)["gifts"][0]["fee"] == 617
    rows = Rows()
    lost = projector.project(at(40, "SameSlot", truncated_gift), rows, commitment="confirmed")
    assert "gifts" not in rows.tables
    assert lost == [
        "instruction 0 (gift_sol): 1 event(s) lost to the truncated log "
        "(not rebuilt: the fee in force at its slot is unknown)"
    ]


def test_a_rebuilt_gift_without_a_known_fee_is_named_as_lost() -> None:
    decoded = tx(instructions=(gift_ix(complete=False),), truncated=True, pre=(10**9, 0, 0, 0, 1),
                 post=(10**9 - 1000, 975, 25, 0, 1))  # fmt: skip
    rows = Rows()
    lost = Projector(PROGRAM).project(decoded, rows, commitment="confirmed")
    assert "gifts" not in rows.tables and len(lost) == 1 and "fee in force" in lost[0]


@pytest.mark.parametrize(
    ("amount", "bps"), [(1, 250), (9_999, 1000), (10_000, 1), (12_345_678_901, 333), (2**64 - 1, 1000), (7, 0)]
)
def test_the_fee_is_computed_as_the_program_computes_it(amount: int, bps: int) -> None:
    # gift_pool.c: (amount / 10000) * bps + ((amount % 10000) * bps) / 10000, which is floor(amount * bps / 10000)
    assert fee_of(amount, bps) == amount * bps // 10_000


def test_a_memo_and_post_id_that_are_not_text_keep_their_exact_bytes() -> None:
    memo_raw, post_raw = b"gm\x00\xff\xfe", b"\xed\xa0\x80post"  # NUL, invalid UTF-8, an encoded surrogate
    memo, post = text_of(memo_raw), text_of(post_raw)
    assert isinstance(memo, LossyText) and isinstance(post, LossyText)
    assert (memo, post) == ("gm\ufffd\ufffd\ufffd", "\ufffd\ufffd\ufffdpost")
    fields = {**gift_event().fields, "memo": memo, "post_id": post}
    (gift,) = project(tx(instructions=(gift_ix(),), events=(Event("0", 0, PROGRAM, "GiftSent", fields, "log"),)))[
        "gifts"
    ]
    assert (gift["memo"], gift["memo_bytes"]) == ("gm\ufffd\ufffd\ufffd", memo_raw)
    assert (gift["post_id"], gift["post_id_bytes"]) == ("\ufffd\ufffd\ufffdpost", post_raw)
    (plain,) = project(tx(instructions=(gift_ix(),), events=(gift_event(),)))["gifts"]
    assert (plain["memo_bytes"], plain["post_id_bytes"]) == (None, None)  # the text is the bytes
