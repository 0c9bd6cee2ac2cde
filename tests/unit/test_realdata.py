"""The decoder on real mainnet data nobody here wrote (tests/fixtures/realdata; where each file comes from
is in its PROVENANCE.md, checked here byte for byte): every transaction decodes, the values other
projects' tests assert come out exactly, failed transactions give no facts, double emissions give one
fact, shared discriminators stay with their program, the whole block decodes, both IDL formats of one
program agree, and a truncated log is recovered from."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import REALDATA

from indexer.decode import DecodedTransaction, Decoder, Event, Idl, Undecodable, load_idl

PUMP, PUMP_AMM = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P", "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
CLMM = "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK"
TRADE_EVENT = bytes.fromhex("bddb7fd34ee661ee")

IdlLoader = Callable[[str], Idl]


@pytest.fixture(scope="session")
def idl(realdata: Path) -> IdlLoader:
    """An IDL of the collection by the start of its file name, loaded once per run."""

    @cache
    def load(name: str) -> Idl:
        (path,) = [p for p in (realdata / "idls").rglob("*.json") if p.name.startswith(name)]
        return load_idl(path)

    return load


@pytest.fixture(scope="session")
def pinax(realdata: Path) -> dict[str, Any]:
    return _pinax(realdata)


def _pinax(realdata: Path) -> dict[str, Any]:
    vectors: dict[str, Any] = json.loads(
        (realdata / "event_vectors/pinax_substreams_solana_idls/pinax_vectors.derived.json").read_text()
    )
    return vectors


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One case per transaction file and per checked pinax vector: the files are listed when the tests are
    collected, not when this module is imported, and an empty listing is an error, never zero tests."""
    if metafunc.definition.name == "test_every_real_transaction_decodes":
        files = transaction_files(REALDATA)
        assert len(files) >= 40, f"the real transactions are missing from {REALDATA}"
        metafunc.parametrize("path", files, ids=[p.name[:48] for p in files])
    if metafunc.definition.name == "test_pinax_vectors_decode_to_the_values_their_tests_assert":
        vectors = [v for v in _pinax(REALDATA)["vectors"] if _vector_id(v) in PINAX_IDLS]
        metafunc.parametrize("vector", vectors, ids=[v["test_fn"] for v in vectors])


# the IDL vintage that matches each era of on-chain layouts (PROVENANCE.md: "Event layouts drift")
PUMP_LEGACY = "pump__LEGACY_format__chainstack_dcd8475"  # 2024: TradeEvent 8 fields declared, 10 on chain
PUMP_2025_08 = "pump__v030_format__pump-public-docs_0c64400"  # the Aug-2025 block's 21-field layout
PUMP_AMM_2025_08 = "pump_amm__v030_format__pump-public-docs_0c64400"
BLOCK_IDLS = (PUMP_2025_08, PUMP_AMM_2025_08, "jupiter__v6__idl", "meteora__dlmm__idl", "raydium__clmm__v3__idl",
              "raydium__cpmm__idl-v2", "meteora__daam__idl", "pancakeswap__idl")  # fmt: skip


def block_decoder(idl: IdlLoader) -> Decoder:
    return Decoder([idl(n) for n in BLOCK_IDLS])


def read(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    result: dict[str, Any] = document.get("result", document)
    return result


def transaction_files(realdata: Path) -> list[Path]:
    files = sorted((realdata / "transactions").rglob("*.json"))
    files += sorted((realdata / "blocks" / "extracted_from_sava_block").glob("[0-9]*.json"))
    return files


NOT_RPC_SHAPED = {"carbon_meta_only", "geyser"}  # a bare meta object / Yellowstone updates: no message to decode


def test_every_real_transaction_decodes(path: Path, idl: IdlLoader) -> None:
    era = PUMP_LEGACY if "2024" in path.name or "chainstack__raw" in path.name else PUMP_2025_08
    decoder = Decoder([idl(era), *(idl(n) for n in BLOCK_IDLS[1:])])
    decoded = decoder.decode(read(path), slot=1)
    if path.parent.name in NOT_RPC_SHAPED:
        assert isinstance(decoded, Undecodable) and decoded.reason, "not RPC-shaped input must be refused with a reason"
        return
    assert isinstance(decoded, DecodedTransaction), decoded
    assert decoded.instructions and all(ix.path for ix in decoded.instructions)
    assert decoded.fee_payer == decoded.account_keys[0]
    if not decoded.success:
        assert decoded.events == ()


# -- ground truth asserted by other projects' tests ------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _flat(value: Any) -> dict[str, Any]:
    """Field name (snake_case) -> value, nested argument structs flattened (OKX wraps its args in `data`)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out[_snake(key)] = item
            if isinstance(item, dict):
                out.update(_flat(item))
    return out


# test function -> the IDL vintage whose layout the vector has (PROVENANCE.md, pinax)
PINAX_IDLS = {
    "unpack_swap_v2": "raydium__clmm__v3__idl",
    "decode_swap_event": "dflow__v4__idl",
    "decode_begin_swap": "drift__v2__idl",
    "decode_end_swap": "drift__v2__idl",
    "unpack_v4_swap_event": "jupiter__v4__idl",
    "unpack_v6_swap_event": "jupiter__v6__idl",
    "unpack_v6_swap_fee_event": "jupiter__v6__idl",
    "unpack_daam_swap_event": "meteora__daam__idl",
    "unpack_dlmm_swap_event": "meteora__dlmm__idl",
    "swap_v3_instruction": "okx__v2__idl",
    "swap_instruction": "pancakeswap__idl",
    "parse_amm_buy_exact_quote_in": "pumpswap__idl",
    "anchor_self_cpi_trade_v0": PUMP_LEGACY,
    "anchor_self_cpi_trade_v1": "pump__v030_format__pump-public-docs_df5013e",
    "anchor_self_cpi_trade_v2": "pump__v030_format__pump-public-docs_e2b66e4",
    "instruction_buy": "pump__v030_format__pump-public-docs_df5013e",
    "instruction_create": PUMP_2025_08,
    "anchor_self_cpi_create": PUMP_2025_08,
    "anchor_self_cpi_trade_v3_sell": PUMP_2025_08,
    "anchor_self_cpi_trade_v3_buy": PUMP_2025_08,
    "instruction_buy_v3": "pump__v030_format__pump-public-docs_df5013e",
    "unpack_sell_event_v2": "pump_amm__v030_format__chainstack_HEAD",
    "unpack_buy_event_v2": "pump_amm__v030_format__chainstack_HEAD",
    "unpack_buy_instruction": "pump_amm__v030_format__chainstack_HEAD",
    "unpack_sell_instruction": PUMP_AMM_2025_08,
    "unpack_create_pool_v2_instruction": PUMP_AMM_2025_08,
    "unpack_swap_v1_deprecated": "raydium__clmm__v3__idl",
    "unpack_launchpad_trade_event": "raydium__launchpad__idl",
    "instruction_sell_exact_in": "raydium__launchpad__idl",
    "unpack_cpmm_swap_event_v1": "raydium__cpmm__idl-v1",
    "unpack_cpmm_swap_event_v2": "raydium__cpmm__idl-v2",
}
# Vectors that are out of scope, each with its reason (found when the vectors were collected):
PINAX_OUT_OF_SCOPE = {
    # Raydium AMM v4 is a native (non-Anchor) program: one-byte tags, logs not in Anchor's event format
    "unpack_amm_v4_swap_event", "unpack_amm_v4_swap_event_2", "unpack_amm_v4_swap_instruction",
    "unpack_amm_v4_swap_instruction_2", "unpack_amm_v4_swap_base_in_instruction",
    "unpack_amm_v4_swap_base_out_instruction",
    "unpack_sell_instruction@heaven__heaven.rs", "unpack_sell_log",  # Heaven: no IDL was collected
    "decode_swap_instruction",  # asserts no field at all (only that DFlow's own decoder parses it)
    "unpack_launchpad_trade_event_2",  # an older 130-byte layout, shorter than the collected launchpad IDL
    "unpack_create_pool_v2_event",  # asserts coin_creator_fee fields absent from every collected IDL
}  # fmt: skip


def _vector_id(v: dict[str, Any]) -> str:
    return (
        f"{v['test_fn']}@{v['source_file']}"
        if f"{v['test_fn']}@{v['source_file']}" in PINAX_OUT_OF_SCOPE
        else v["test_fn"]
    )


def test_every_pinax_vector_is_either_checked_or_out_of_scope_for_a_stated_reason(pinax: dict[str, Any]) -> None:
    ids = [_vector_id(v) for v in pinax["vectors"]]
    assert set(ids) <= set(PINAX_IDLS) | PINAX_OUT_OF_SCOPE
    assert len([i for i in ids if i in PINAX_IDLS]) == 32  # of 43: the other 11 are listed with their reasons


def test_pinax_vectors_decode_to_the_values_their_tests_assert(
    vector: dict[str, Any], idl: IdlLoader, realdata: Path
) -> None:
    program = idl(PINAX_IDLS[vector["test_fn"]])
    data = bytes.fromhex(vector["hex"][0]) if vector["hex"] else _full_base64(realdata, vector)
    if data.startswith(bytes.fromhex("e445a52e51cb9a1d")):  # an emit_cpi! self-invocation: the event follows
        data = data[8:]
    if data[:8] in program.events:
        value, end = program.events[data[:8]].read(data, 8)
    else:
        instruction = program.instruction(data)
        assert instruction is not None, "no instruction of the IDL has this discriminator"
        value, end = instruction.read(data, len(instruction.discriminator))
    got = _flat(value)
    expected = {k: v for k, v in vector["expected"].items() if not isinstance(v, dict)}  # Rust expressions aside
    assert {k: got.get(k) for k in expected} == expected
    for key, rust in ((k, v["raw_rust_expr"]) for k, v in vector["expected"].items() if isinstance(v, dict)):
        if rust in ("u64::MAX", "u64::MIN"):
            assert got[key] == (2**64 - 1 if rust == "u64::MAX" else 0)
    assert end <= len(data)


def _full_base64(realdata: Path, vector: dict[str, Any]) -> bytes:
    """The derived file cut `concat!(...)` literals short: join them again from the test's own source."""
    source = (realdata / "event_vectors/pinax_substreams_solana_idls" / vector["source_file"]).read_text()
    body = source[source.index(f"fn {vector['test_fn']}(") :]
    literal = body[body.index("concat!(") : body.index(");", body.index("concat!("))]
    return base64.b64decode("".join(re.findall(r'"([A-Za-z0-9+/=]+)"', literal)))


def test_the_borsh_encoding_vectors_pump_amm_buy_and_launchpad_trade(realdata: Path, idl: IdlLoader) -> None:
    text = (realdata / "event_vectors/LuKks_borsh-encoding/test_basic.js").read_text()
    buy_log = re.search(r"Program data: (Z/RSHyz1d3ew[A-Za-z0-9+/=]+)", text)
    assert buy_log is not None
    data = base64.b64decode(buy_log.group(1))
    fields, end = idl("pump_amm__v030_format__pump-public-docs_df5013e").events[data[:8]].read(data, 8)  # 2025-04
    assert end == len(data)
    assert (fields["timestamp"], fields["base_amount_out"], fields["max_quote_amount_in"]) == (
        1746148272, 224164147200, 1618126650
    )  # fmt: skip
    assert (fields["lp_fee"], fields["protocol_fee"], fields["user_quote_amount_in"]) == (3135533, 783884, 1571685498)
    assert (fields["pool"], fields["user"]) == (
        "D8jJQR9BcBrfVhhnJ61Phok1YNfGhzwcFyKXLiLXGxYj", "2FkCvc2FqrPa5NS9r15JWqXcVUyWdUjEJXU1P7or6BvA"
    )  # fmt: skip
    launchpad = re.search(r"Program data: (vdt/007mYe[A-Za-z0-9+/=]+)", text)
    assert launchpad is not None
    data = base64.b64decode(launchpad.group(1))
    fields, _ = idl("raydium__launchpad__idl").events[data[:8]].read(data, 8)
    assert (fields["pool_state"], fields["amount_in"], fields["amount_out"]) == (
        "9HjtrQriVJaxaTxszNsnxKM5yH55mpRVpD7dL2Sw58cx", 1980000000, 13081111858058
    )  # fmt: skip
    assert (fields["protocol_fee"], fields["platform_fee"], fields["creator_fee"], fields["exact_in"]) == (
        4950000, 19800000, 990000, True
    )  # fmt: skip


def test_vixen_pump_fun_instructions_with_their_named_accounts(realdata: Path, idl: IdlLoader) -> None:
    folder = realdata / "event_vectors/vixen_pump_fun_instruction_ground_truth"
    decoded: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {}
    for path in folder.glob("*_tx.json"):
        fixture = json.loads(path.read_text())
        for ix in fixture["instructions"]:
            if bytes(ix["program"]).hex() != bytes(Pubkey_bytes(PUMP)).hex():
                continue
            data = bytes(ix["data"])
            definition = idl(PUMP_2025_08).instruction(data)
            if definition is None or definition.name not in ("buy", "sell"):
                continue
            args, _ = definition.read(data, 8)
            accounts = [_b58(bytes(a)) for a in ix["accounts"]]
            decoded[path.name[:8]] = (definition.name, args, dict(zip(definition.accounts, accounts, strict=False)))
    name, args, accounts = decoded["4GtxzHLT"]
    assert (name, args["amount"], args["min_sol_output"]) == ("sell", 3878351170692, 522403143)
    assert accounts["mint"] == "FXLjNRSQXuFM8fhKLEg2QeuUxs4Eu2hhc28tZhzrpump"
    assert accounts["user"] == "GEk94udrX63hAvNzNE1eC8zNvMDZ2cpV9xTgKuVP7kAw"
    name, args, accounts = decoded["3tkxRjND"]
    assert (name, args["amount"], args["max_sol_cost"]) == ("buy", 693868985905, 55000000)
    assert len(accounts) >= 14


def Pubkey_bytes(key: str) -> bytes:
    from solders.pubkey import Pubkey

    return bytes(Pubkey.from_string(key))


def _b58(raw: bytes) -> str:
    from solders.pubkey import Pubkey

    return str(Pubkey.from_bytes(raw))


def trades(decoded: DecodedTransaction | Undecodable) -> list[Event]:
    assert isinstance(decoded, DecodedTransaction), decoded
    return [e for e in decoded.events if e.program_id == PUMP and e.name == "TradeEvent"]


def test_the_chainstack_round_trip_is_two_trades_not_four(realdata: Path, idl: IdlLoader) -> None:
    decoded = Decoder([idl(PUMP_LEGACY)]).decode(
        read(realdata / "transactions/pumpfun/chainstack__raw_buy_tx_from_getTransaction.json")
    )
    found = trades(decoded)
    assert [(e.source, e.fields["solAmount"], e.fields["tokenAmount"], e.fields["isBuy"]) for e in found] == [
        ("both", 24080282, 605426095720, True), ("both", 24080281, 605426095720, False)
    ]  # fmt: skip
    # the 2024 legacy IDL declares 8 fields; the chain wrote 10: the known prefix, 16 bytes kept, flagged
    assert all(e.drift and len(e.extra) == 16 for e in found)


def test_known_trade_amounts_of_other_eras(realdata: Path, idl: IdlLoader) -> None:
    sell = Decoder([idl(PUMP_LEGACY)]).decode(read(realdata / "transactions/pumpfun/soltxs__pumpfun_sell_rpc.json"))
    assert [(e.fields["solAmount"], e.fields["tokenAmount"], e.fields["isBuy"]) for e in trades(sell)] == [
        (37437283903, 592443959000000, False)
    ]
    extract = realdata / "blocks/extracted_from_sava_block"
    (direct,) = extract.glob("0235__*.json")
    found = trades(Decoder([idl(PUMP_2025_08)]).decode(read(direct), slot=361774429))
    assert [(e.fields["sol_amount"], e.fields["is_buy"], e.drift) for e in found] == [(2574272457, False, False)]


FAILED = {
    "1717": ("6EF8", None),  # pump.fun sold, then a later instruction failed: the trade never happened
    "1722": (None, None),
    "0137": (None, None),
    "1652": (None, "ExceededAmountSlippageTolerance"),
    "0175": (None, "ExceededSlippage"),
}


@pytest.mark.parametrize("prefix", sorted(FAILED))
def test_failed_transactions_yield_no_facts(prefix: str, realdata: Path, idl: IdlLoader) -> None:
    (path,) = (realdata / "blocks/extracted_from_sava_block").glob(f"{prefix}__*.json")
    decoded = block_decoder(idl).decode(read(path), slot=361774429)
    assert isinstance(decoded, DecodedTransaction)
    assert decoded.success is False and decoded.events == () and decoded.error is not None
    expected_name = FAILED[prefix][1]
    if expected_name:
        assert decoded.error.name == expected_name
        assert decoded.error.code is not None and decoded.error.code >= 6000
    if prefix == "1717":
        (would_be,) = [e for e in decoded.failed_events if e.program_id == PUMP]
        assert would_be.fields["sol_amount"] == 716494071


def test_a_failed_transaction_without_an_instruction_error_is_named(realdata: Path) -> None:
    path = realdata / "transactions/misc_non_anchor/solnet__GetTransactionResponse2__failed_governance.json"
    decoded = Decoder([]).decode(read(path))
    assert isinstance(decoded, DecodedTransaction)
    assert decoded.error is not None and decoded.error.name == "InvalidRentPayingAccount" and decoded.events == ()


@pytest.mark.parametrize("prefix", ["1238", "1208"])
def test_other_programs_sharing_pump_funs_discriminator_are_not_pump_fun(
    prefix: str, realdata: Path, idl: IdlLoader
) -> None:
    (path,) = (realdata / "blocks/extracted_from_sava_block").glob(f"{prefix}__*.json")
    raw = read(path)
    logged = [
        base64.b64decode(line.split()[2]) for line in raw["meta"]["logMessages"] if line.startswith("Program data:")
    ]
    assert any(d.startswith(TRADE_EVENT) for d in logged)  # the same 8 bytes are really there
    decoded = Decoder([idl(PUMP_2025_08)]).decode(raw, slot=361774429)
    assert isinstance(decoded, DecodedTransaction)
    assert [e for e in decoded.events if e.name == "TradeEvent"] == []


def test_the_whole_mainnet_block_decodes_with_events_counted_by_program(realdata: Path, idl: IdlLoader) -> None:
    with zipfile.ZipFile(realdata / "blocks/sava__getBlock_mainnet.json.zip") as archive:
        block = json.loads(archive.read(archive.namelist()[0]))
    block = block.get("result", block)
    decoder = block_decoder(idl)
    results = [decoder.decode(tx, slot=block["parentSlot"] + 1) for tx in block["transactions"]]
    assert len(results) == 1790
    assert [r for r in results if isinstance(r, Undecodable)] == []
    decoded = [r for r in results if isinstance(r, DecodedTransaction)]
    assert sum(not r.success for r in decoded) == 409
    counts = Counter(f"{e.program_id[:4]}:{e.name}" for r in decoded for e in r.events)
    assert counts == {
        "6EF8:TradeEvent": 13, "CAMM:SwapEvent": 26, "JUP6:FeeEvent": 3, "JUP6:SwapEvent": 53, "LBUZ:ClaimFee": 1,
        "LBUZ:ClaimFee2": 1, "LBUZ:PositionClose": 1, "LBUZ:RemoveLiquidity": 1, "LBUZ:Swap": 9,
        "pAMM:BuyEvent": 8, "pAMM:SellEvent": 13, "cpam:EvtSwap": 2, "CPMM:SwapEvent": 3, "HpNf:SwapEvent": 6,
    }  # fmt: skip
    assert not [e for r in decoded for e in r.events if e.drift]  # the Aug-2025 IDLs fit the Aug-2025 block


def test_both_idl_formats_of_one_program_decode_the_same_events(realdata: Path) -> None:
    folder = realdata / "idls" / "explorer_mocks_same_program_0.29_vs_0.30"
    legacy = load_idl(folder / "anchor-0.29.0-devi51mZmdwUJGU9hjN27vEz64Gps7uUefqxg27EAtH.json").with_address(CLMM)
    modern = load_idl(folder / "anchor-0.30.1-devi51mZmdwUJGU9hjN27vEz64Gps7uUefqxg27EAtH.json").with_address(CLMM)
    assert legacy.legacy and not modern.legacy
    with zipfile.ZipFile(realdata / "blocks/sava__getBlock_mainnet.json.zip") as archive:
        block = json.loads(archive.read(archive.namelist()[0]))
    block = block.get("result", block)

    def swaps(program: Idl) -> list[tuple[str, dict[str, Any]]]:
        decoder = Decoder([program])
        out = []
        for tx in block["transactions"]:
            decoded = decoder.decode(tx, slot=1)
            assert isinstance(decoded, DecodedTransaction)
            out += [(e.name, _flat(e.fields)) for e in decoded.events]
        return out

    found = swaps(modern)
    assert len(found) == 26 and {name for name, _ in found} == {"SwapEvent"}
    assert swaps(legacy) == found


def test_a_truncated_log_is_detected_and_the_events_before_the_cut_are_kept(realdata: Path, idl: IdlLoader) -> None:
    (path,) = (realdata / "logs_only").glob("*.json")
    logs: list[str] = json.loads(path.read_text())["logMessages"]
    # rebuild the transaction the log belongs to: one instruction per `invoke`, at its depth
    programs = ["Payer111111111111111111111111111111111111111"]
    top: list[dict[str, Any]] = []
    inner: dict[int, list[dict[str, Any]]] = {}
    for line in logs:
        match = re.match(r"^Program (\S+) invoke \[(\d+)\]$", line)
        if not match:
            continue
        if match.group(1) not in programs:
            programs.append(match.group(1))
        ix = {"programIdIndex": programs.index(match.group(1)), "accounts": [], "data": ""}
        if match.group(2) == "1":
            top.append(ix)
        else:
            inner.setdefault(len(top) - 1, []).append({**ix, "stackHeight": int(match.group(2))})
    # the cut swallowed one more top-level instruction's `invoke`: the line after it shows the System program
    assert logs[-2:] == ["Log truncated", "Program 11111111111111111111111111111111 success"]
    programs.append("11111111111111111111111111111111")
    top.append({"programIdIndex": len(programs) - 1, "accounts": [], "data": ""})
    tx = {
        "slot": 1, "blockTime": 1750874776,
        "transaction": {"signatures": ["1" * 64], "message": {"accountKeys": programs, "instructions": top}},
        "meta": {"err": None, "fee": 5000, "logMessages": logs, "preBalances": [], "postBalances": [],
                 "innerInstructions": [{"index": i, "instructions": v} for i, v in inner.items()]},
    }  # fmt: skip
    decoded = Decoder([idl("pump_amm__v030_format__chainstack_HEAD")]).decode(tx)
    assert isinstance(decoded, DecodedTransaction)
    assert decoded.logs_truncated is True
    buys = [e for e in decoded.events if e.name == "BuyEvent"]
    assert [e.fields["timestamp"] for e in buys] == [1750874776, 1750874776]
    assert {e.fields["pool"][:8] for e in buys} == {"A3JMnJSj", "5KnaELrQ"}
    assert len(top) == 6
    complete = {ix.path: ix.logs_complete for ix in decoded.instructions if ix.stack_height == 1}
    assert complete == {"0": True, "1": True, "2": True, "3": True, "4": True, "5": False}


# programs whose ids are known independently of any transaction: an account the IDL names after one of them
# must resolve to that id, wherever the transaction keeps it (static keys or an address lookup table)
WELL_KNOWN = {
    "system_program": "11111111111111111111111111111111",
    "token_program": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    "associated_token_program": "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
}


def test_named_accounts_through_address_lookup_tables_are_the_right_keys(realdata: Path, idl: IdlLoader) -> None:
    decoder = block_decoder(idl)
    checked = through_tables = 0
    for path in sorted((realdata / "blocks" / "extracted_from_sava_block").glob("[0-9]*.json")):
        document = read(path)
        loaded = document["meta"].get("loadedAddresses") or {}
        tables = [*loaded.get("writable", []), *loaded.get("readonly", [])]
        if not tables:
            continue
        decoded = decoder.decode(document, slot=1, signature=path.stem)
        assert isinstance(decoded, DecodedTransaction), path.name
        first_loaded = len(decoded.account_keys) - len(tables)
        assert list(decoded.account_keys[first_loaded:]) == tables  # writable ones, then readonly ones
        for ix in decoded.instructions:
            for name, key in (ix.named_accounts or {}).items():
                if name in WELL_KNOWN:
                    assert key == WELL_KNOWN[name], (path.name, ix.path, name)
                    checked += 1
                    through_tables += key not in decoded.account_keys[:first_loaded]
    assert checked >= 10 and through_tables >= 3, (checked, through_tables)


def test_every_file_is_the_one_its_provenance_names(realdata: Path) -> None:
    """PROVENANCE.md lists each file with its SHA-256; the folder holds exactly those files, unchanged."""
    listed = dict(
        re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (realdata / "PROVENANCE.md").read_text(), re.M)
    )
    present = {str(p.relative_to(realdata)) for p in realdata.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"}
    assert set(listed) == present
    assert {name: hashlib.sha256((realdata / name).read_bytes()).hexdigest() for name in present} == listed
    assert len(present) == 73
