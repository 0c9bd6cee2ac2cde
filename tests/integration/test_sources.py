"""The indexer's sources against the real local chain over real JSON-RPC, and the replay source on real
files: every signature once and in chain order across pages and batches, an exact resume from a cursor,
--from-slot, 429s whose Retry-After is honoured, and the mainnet block's 1,790 transactions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from indexer_harness import local_chain, program_signatures, simulate

from indexer.sources import BackfillSource, Cursor, ReplaySource, RpcClient, SourceError
from programs.gift_pool.client import PROGRAM_ID

PROGRAM = str(PROGRAM_ID)


async def drain(
    source: BackfillSource | ReplaySource, start: Cursor | None = None
) -> list[tuple[str, int, Cursor | None]]:
    out = []
    async for batch in source.stream(start):
        for tx in batch.transactions:
            assert tx.payload is not None
            body = tx.payload["transaction"]
            assert not isinstance(body, dict) or body["signatures"][0] == tx.signature
            out.append((tx.signature, tx.slot, batch.cursor))
    return out


async def test_backfill_pages_and_batches_deliver_every_signature_once_in_chain_order() -> None:
    async with local_chain() as net:
        await simulate(net, seed=31, duration=1.0)
        expected = await program_signatures(net.rpc_url)
        async with RpcClient(net.rpc_url, concurrency=3) as rpc:
            source = BackfillSource(rpc, PROGRAM, page_size=17, batch_size=9, in_flight=3)
            delivered = await drain(source)
            assert [s for s, _, _ in delivered] == list(reversed(list(expected)))  # oldest first, listing order
            slots = [slot for _, slot, _ in delivered]
            assert slots == sorted(slots)
            # each batch's cursor is its own last transaction
            last_of_batch = {c.signature for _, _, c in delivered if c is not None}
            assert last_of_batch <= {s for s, _, _ in delivered}

            # resume from a cursor in the middle: exactly the rest, nothing twice
            middle = len(delivered) // 2
            signature, slot, _ = delivered[middle]
            rest = await drain(BackfillSource(rpc, PROGRAM, page_size=17, batch_size=9), Cursor(slot, signature))
            assert [s for s, _, _ in rest] == [s for s, _, _ in delivered[middle + 1 :]]

            # --from-slot: nothing older
            cut = delivered[len(delivered) // 3][1]
            recent = await drain(BackfillSource(rpc, PROGRAM, from_slot=cut))
            assert [s for s, _, _ in recent] == [s for s, slot, _ in delivered if slot >= cut]


async def test_a_rate_limited_backfill_waits_as_told_and_still_completes() -> None:
    async with local_chain() as net:
        await simulate(net, seed=32, duration=0.5)
        expected = await program_signatures(net.rpc_url)
        net.faults.update({"rate_limit_fraction": 0.3, "retry_after_s": 1, "latency_ms": 10})
        async with RpcClient(net.rpc_url, concurrency=4) as rpc:
            started = time.monotonic()
            delivered = await drain(BackfillSource(rpc, PROGRAM, batch_size=10))
            elapsed = time.monotonic() - started
            assert sorted(s for s, _, _ in delivered) == sorted(expected)
            assert rpc.waited_for_429_s >= 1.0  # every 429 waited its Retry-After (1 s) at least
            assert elapsed >= 1.0


async def test_an_unreachable_cluster_is_a_source_error_after_the_retries() -> None:
    from conftest import free_port

    async with RpcClient(f"http://127.0.0.1:{free_port()}", max_retries=2, backoff_base_s=0.01) as rpc:
        with pytest.raises(SourceError, match="gave up after 3 attempts"):
            await rpc.get_slot()


async def test_replay_reads_real_files_blocks_and_zips(realdata: Path) -> None:
    block = await drain(ReplaySource([realdata / "blocks" / "sava__getBlock_mainnet.json.zip"]))
    assert len(block) == 1790 and len({s for s, _, _ in block}) == 1790
    assert {slot for _, slot, _ in block} == {361774429}
    pumpfun = await drain(ReplaySource([realdata / "transactions" / "pumpfun"]))
    assert len(pumpfun) == 5
    assert [slot for _, slot, _ in pumpfun] == sorted(slot for _, slot, _ in pumpfun)
    # a resume after the second one gives the other three
    signature, slot, _ = pumpfun[1]
    assert [
        s for s, _, _ in await drain(ReplaySource([realdata / "transactions" / "pumpfun"]), Cursor(slot, signature))
    ] == [s for s, _, _ in pumpfun[2:]]


async def test_an_unreadable_replay_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(SourceError, match=r"broken\.json: unreadable"):
        await drain(ReplaySource([bad]))
