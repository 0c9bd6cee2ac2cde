"""Delivery of new anomalies to a webhook: JSON signed with HMAC-SHA256 (header X-Memefans-Signature:
sha256=<hex>), retried with exponential backoff, every attempt recorded in `webhook_deliveries`."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Sequence

import asyncpg
import httpx

from warehouse.jobs.settings import JobSettings

__all__ = ["SEVERITIES", "deliver", "sign"]

SEVERITIES = ("info", "low", "medium", "high", "critical")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(
    pool: asyncpg.Pool, settings: JobSettings, anomaly_ids: Sequence[int], *, backoff_s: float = 0.5
) -> int:
    """POST each anomaly at or above the configured severity; returns how many were delivered (2xx)."""
    if not settings.webhook_url:
        return 0
    floor = SEVERITIES.index(settings.webhook_min_severity)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, rule, severity, title, evidence::text AS evidence, creator, first_seen FROM anomalies "
            "WHERE id = ANY($1::bigint[]) ORDER BY id",
            list(anomaly_ids),
        )
    delivered = 0
    async with httpx.AsyncClient(timeout=10) as http:
        for row in rows:
            if SEVERITIES.index(row["severity"]) < floor:
                continue
            body = json.dumps(
                {"id": row["id"], "rule": row["rule"], "severity": row["severity"], "title": row["title"],
                 "creator": row["creator"], "evidence": json.loads(row["evidence"]),
                 "first_seen": row["first_seen"].isoformat()},
                sort_keys=True,
            ).encode()  # fmt: skip
            headers = {"Content-Type": "application/json", "X-Memefans-Signature": sign(settings.webhook_secret, body)}
            digest = hashlib.sha256(body).hexdigest()
            for attempt in range(1, settings.webhook_attempts + 1):
                status, error = None, None
                try:
                    reply = await http.post(settings.webhook_url, content=body, headers=headers)
                    status = reply.status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                async with pool.acquire() as conn:
                    await conn.execute(
                        "INSERT INTO webhook_deliveries (anomaly_id, url, attempt, status_code, error, payload_sha256) "
                        "VALUES ($1, $2, $3, $4, $5, $6)",
                        row["id"], settings.webhook_url, attempt, status, error, digest,
                    )  # fmt: skip
                if status is not None and 200 <= status < 300:
                    delivered += 1
                    break
                await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
    return delivered
