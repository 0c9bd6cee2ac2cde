"""Property tests of the decoder: whatever the logs, instruction data, account indexes or JSON shapes, it
never raises; what it cannot read becomes an Undecodable with a reason (a dead letter downstream); whatever
the bytes of a string, it decodes to text PostgreSQL accepts, with the exact bytes kept when they differ."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.decode import DecodedTransaction, Decoder, Undecodable, load_idl
from indexer.decode.borsh import LossyText, compile_type
from indexer.settings import DEFAULT_IDL
from programs.gift_pool.client import PROGRAM_ID

GIFT_POOL = load_idl(DEFAULT_IDL)
DECODER = Decoder([GIFT_POOL])
PROGRAM = str(PROGRAM_ID)
GIFT_SENT = next(e for e in GIFT_POOL.events.values() if e.name == "GiftSent").discriminator
FAN, CREATOR = "Fan1111111111111111111111111111111111111111", "Creator111111111111111111111111111111111111"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gift_payload(amount: int = 1000) -> bytes:
    from solders.pubkey import Pubkey

    def string(text: str) -> bytes:
        return len(text.encode()).to_bytes(4, "little") + text.encode()

    fan = bytes(Pubkey.from_string("11111111111111111111111111111112"))
    return (
        GIFT_SENT + fan + fan + b"\x00" + amount.to_bytes(8, "little") + (25).to_bytes(8, "little")
        + string("post-1") + string("gm") + (1_700_000_000).to_bytes(8, "little", signed=True)
    )  # fmt: skip


def base_tx(logs: list[str] | None = None) -> dict[str, Any]:
    """A well-formed gift transaction in the json encoding."""
    return {
        "slot": 7,
        "blockTime": 1_700_000_000,
        "transaction": {
            "signatures": ["5" * 88],
            "message": {
                "accountKeys": [FAN, CREATOR, PROGRAM],
                "instructions": [{"programIdIndex": 2, "accounts": [0, 1], "data": "3Bxs4Bc3VYuGVB19"}],
            },
        },
        "meta": {
            "err": None, "fee": 5000, "preBalances": [10, 0, 1], "postBalances": [5, 5, 1], "innerInstructions": [],
            "logMessages": logs if logs is not None else [
                f"Program {PROGRAM} invoke [1]",
                "Program data: " + base64.b64encode(gift_payload()).decode(),
                f"Program {PROGRAM} success",
            ],
        },
    }  # fmt: skip


def test_the_base_transaction_decodes_its_gift() -> None:
    decoded = DECODER.decode(base_tx())
    assert isinstance(decoded, DecodedTransaction)
    (event,) = decoded.events
    assert (event.name, event.fields["amount"], event.fields["fee"], event.fields["post_id"]) == (
        "GiftSent",
        1000,
        25,
        "post-1",
    )
    assert (event.ix_path, event.event_index, event.source, event.drift) == ("0", 0, "log", False)


def test_trailing_bytes_are_drift_kept_and_flagged() -> None:
    payload = gift_payload() + b"\x01\x02\x03"
    data = "Program data: " + base64.b64encode(payload).decode()
    decoded = DECODER.decode(base_tx([f"Program {PROGRAM} invoke [1]", data, f"Program {PROGRAM} success"]))
    assert isinstance(decoded, DecodedTransaction)
    (event,) = decoded.events
    assert event.drift and event.extra == b"\x01\x02\x03" and event.fields["amount"] == 1000


LOG_LINES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            f"Program {PROGRAM} invoke [1]",
            f"Program {PROGRAM} invoke [2]",
            f"Program {PROGRAM} success",
            f"Program {PROGRAM} failed: custom program error: 0x1770",
            "Log truncated",
            "Program data: ",
            "Program data: !!!notbase64",
            f"Program {PROGRAM} consumed 100 of 200 compute units",
            "Program return: abc",
            "Program  invoke [x]",
        ]
    ),
    st.binary(max_size=120).map(lambda b: "Program data: " + base64.b64encode(b).decode()),
    st.binary(max_size=40).map(lambda b: "Program data: " + base64.b64encode(gift_payload()[: len(b)]).decode()),
)


@SETTINGS
@given(st.lists(LOG_LINES, max_size=30))
def test_random_logs_never_raise(logs: list[str]) -> None:
    decoded = DECODER.decode(base_tx(logs))
    assert isinstance(decoded, DecodedTransaction)  # logs alone can never make a transaction unreadable
    assert all(e.program_id == PROGRAM for e in decoded.events)


@SETTINGS
@given(st.binary(max_size=200), st.lists(st.integers(-3, 10), max_size=6))
def test_random_instruction_data_and_account_indexes_never_raise(data: bytes, accounts: list[int]) -> None:
    import base58

    tx = base_tx()
    tx["transaction"]["message"]["instructions"] = [
        {"programIdIndex": 2, "accounts": accounts, "data": base58.b58encode(data).decode()}
    ]
    decoded = DECODER.decode(tx)
    if any(not 0 <= a < 3 for a in accounts):
        assert isinstance(decoded, Undecodable) and "account index" in decoded.reason
    else:
        assert isinstance(decoded, DecodedTransaction)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
PATHS = [("transaction",), ("meta",), ("transaction", "message"), ("transaction", "signatures"),
         ("transaction", "message", "accountKeys"), ("transaction", "message", "instructions"),
         ("meta", "innerInstructions"), ("meta", "logMessages"), ("meta", "loadedAddresses"), ("meta", "fee"),
         ("meta", "preTokenBalances"), ("meta", "err"), ("slot",)]  # fmt: skip


@SETTINGS
@given(st.sampled_from(PATHS), JSON)
def test_any_field_replaced_by_any_json_never_raises(path: tuple[str, ...], value: Any) -> None:
    tx = copy.deepcopy(base_tx())
    target = tx
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    decoded = DECODER.decode(tx)
    assert isinstance(decoded, DecodedTransaction | Undecodable)
    if isinstance(decoded, Undecodable):
        assert decoded.reason


@SETTINGS
@given(JSON)
def test_any_json_at_all_never_raises(value: Any) -> None:
    decoded = DECODER.decode(value)
    assert isinstance(decoded, Undecodable) and decoded.reason


@SETTINGS
@given(st.binary(min_size=1, max_size=400))
def test_corrupted_wire_bytes_are_undecodable_with_a_reason(raw: bytes) -> None:
    tx = base_tx()
    tx["transaction"] = [base64.b64encode(raw).decode(), "base64"]
    decoded = DECODER.decode(tx)
    assert isinstance(decoded, DecodedTransaction | Undecodable)
    if isinstance(decoded, Undecodable):
        assert decoded.reason


def test_a_malformed_idl_is_a_clear_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="no `instructions` list"):
        load_idl({"name": "x"})
    broken = json.loads(DEFAULT_IDL.read_text())
    broken["types"] = [t for t in broken["types"] if t["name"] != "GiftArgs"]  # batch_gift's args now undefined
    partial = load_idl(broken)
    assert any("batch_gift" in p and "GiftArgs" in p for p in partial.problems)
    assert "batch_gift" not in {i.name for i in partial.instructions}  # left out, the rest still decodes
    assert "gift_sol" in {i.name for i in partial.instructions}


READ_STRING = compile_type("string", {})


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=60).map(str.encode))
def test_any_string_bytes_decode_to_storable_text_and_keep_the_bytes_when_lossy(raw: bytes) -> None:
    text, end = READ_STRING(len(raw).to_bytes(4, "little") + raw + b"tail", 0)
    assert end == 4 + len(raw)
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogate: PostgreSQL's UTF-8 text takes every character
    assert text == raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if text.encode() == raw:
        assert type(text) is str  # exact: nothing to keep beside it
    else:
        assert isinstance(text, LossyText) and text.raw == raw
        assert json.loads(json.dumps(text)) == text and copy.deepcopy(text).raw == raw


def test_nul_and_invalid_utf8_in_a_gifts_memo_are_replaced_and_kept() -> None:
    payload = gift_payload()
    memo_at = payload.index(b"\x02\x00\x00\x00gm")
    hostile = payload[:memo_at] + (4).to_bytes(4, "little") + b"g\x00\xffm" + payload[memo_at + 6 :]
    data = "Program data: " + base64.b64encode(hostile).decode()
    decoded = DECODER.decode(base_tx([f"Program {PROGRAM} invoke [1]", data, f"Program {PROGRAM} success"]))
    assert isinstance(decoded, DecodedTransaction)
    (event,) = decoded.events
    memo = event.fields["memo"]
    assert memo == "g\ufffd\ufffdm" and isinstance(memo, LossyText) and memo.raw == b"g\x00\xffm"
    assert type(event.fields["post_id"]) is str and event.fields["post_id"] == "post-1"
