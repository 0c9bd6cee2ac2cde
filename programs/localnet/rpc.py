"""Solana JSON-RPC 2.0 over the local chain: dispatch, parameters, and the real response shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import base58
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from programs.localnet.chain import Chain, ChainError, Executed
from programs.localnet.finalized import FinalizedState
from programs.localnet.parsed import parse_instruction
from programs.localnet.tokens import TOKEN_PROGRAMS, token_account, ui_amount

__all__ = ["MAX_BODY", "RpcError", "RpcHandler", "account_json"]

MAX_BODY = 1 << 20  # bytes; larger requests are refused
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
VERSION = {"solana-core": "4.1.2", "feature-set": 0}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _param(params: list[Any], index: int, kind: type | tuple[type, ...], name: str, default: Any = ...) -> Any:
    if index >= len(params) or params[index] is None:
        if default is ...:
            raise RpcError(INVALID_PARAMS, f"Invalid params: missing {name}")
        return default
    value = params[index]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise RpcError(INVALID_PARAMS, f"Invalid params: {name} must be {getattr(kind, '__name__', kind)}")
    return value


def _pubkey(params: list[Any], index: int, name: str = "pubkey") -> Pubkey:
    value = _param(params, index, str, name)
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"Invalid param: {name} is not a valid base58 pubkey") from None


def _config(params: list[Any], index: int) -> dict[str, Any]:
    config = _param(params, index, dict, "config", {})
    assert isinstance(config, dict)
    return config


class RpcHandler:
    """Maps method names to the chain. Call `handle(body_bytes)`; it never raises."""

    def __init__(self, chain: Chain, on_executed: Callable[[Executed], None] | None = None) -> None:
        self.chain = chain
        self.finalized = FinalizedState(chain)
        self.on_executed = on_executed or (lambda _e: None)
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")
        }

    # -- protocol --------------------------------------------------------------------------------------

    def handle(self, body: bytes) -> Any:
        if len(body) > MAX_BODY:
            return _error_response(None, RpcError(INVALID_REQUEST, f"request larger than {MAX_BODY} bytes"))
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error_response(None, RpcError(PARSE_ERROR, "Parse error"))
        if isinstance(request, list):
            if not request:
                return _error_response(None, RpcError(INVALID_REQUEST, "Invalid request: empty batch"))
            return [self._one(item) for item in request]
        return self._one(request)

    def _one(self, request: Any) -> dict[str, Any]:
        if (
            not isinstance(request, dict)
            or request.get("jsonrpc") != "2.0"
            or not isinstance(request.get("method"), str)
        ):
            return _error_response(request.get("id") if isinstance(request, dict) else None,
                                   RpcError(INVALID_REQUEST, "Invalid request"))  # fmt: skip
        ident = request.get("id")
        method = self.methods.get(request["method"])
        params = request.get("params", [])
        try:
            if method is None:
                raise RpcError(METHOD_NOT_FOUND, "Method not found")
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "Invalid params: expected an array")
            return {"jsonrpc": "2.0", "result": method(params), "id": ident}
        except RpcError as exc:
            return _error_response(ident, exc)
        except ChainError as exc:
            return _error_response(ident, RpcError(exc.code, exc.message, exc.data))

    def _context(self, result: Any, commitment: str | None = None) -> dict[str, Any]:
        return self._at(self.chain.slot_for(commitment), result)

    def _state(self, config: dict[str, Any]) -> tuple[int, LiteSVM]:
        """Where account reads come from: asked for `finalized` explicitly, the state at the finalized slot
        (a replica that replays the log); otherwise the SVM's newest, with the newest slot, so that a client
        comparing it with history (a reconciliation) compares with the right slot."""
        if config.get("commitment") == "finalized":
            return self.finalized.state()
        return self.chain.slot, self.chain.svm

    def _at(self, slot: int, result: Any) -> dict[str, Any]:
        return {"context": {"apiVersion": VERSION["solana-core"], "slot": slot}, "value": result}

    # -- cluster ---------------------------------------------------------------------------------------

    def rpc_getVersion(self, params: list[Any]) -> Any:
        return VERSION

    def rpc_getHealth(self, params: list[Any]) -> Any:
        return "ok"

    def rpc_getSlot(self, params: list[Any]) -> Any:
        return self.chain.slot_for(_config(params, 0).get("commitment"))

    def rpc_getBlockHeight(self, params: list[Any]) -> Any:
        return self.chain.slot_for(_config(params, 0).get("commitment"))

    def rpc_getFirstAvailableBlock(self, params: list[Any]) -> Any:
        return min(self.chain.slots)

    def rpc_getGenesisHash(self, params: list[Any]) -> Any:
        return self.chain.slots[min(self.chain.slots)].blockhash

    def rpc_getLatestBlockhash(self, params: list[Any]) -> Any:
        value = {"blockhash": self.chain.latest_blockhash, "lastValidBlockHeight": self.chain.last_valid_block_height()}
        return self._context(value, _config(params, 0).get("commitment"))

    def rpc_isBlockhashValid(self, params: list[Any]) -> Any:
        return self._context(self.chain.blockhash_valid(_param(params, 0, str, "blockhash")))

    def rpc_getMinimumBalanceForRentExemption(self, params: list[Any]) -> Any:
        return self.chain.svm.minimum_balance_for_rent_exemption(_param(params, 0, int, "data length"))

    def rpc_getFeeForMessage(self, params: list[Any]) -> Any:
        raw = _param(params, 0, str, "message")
        try:
            data = base64.b64decode(raw, validate=True)
            signatures = data[1] if data[0] & 0x80 else data[0]  # header byte follows the version prefix
        except (ValueError, IndexError):
            raise RpcError(INVALID_PARAMS, "Invalid params: message is not a base64 serialized message") from None
        return self._context(5000 * int(signatures))

    # -- accounts --------------------------------------------------------------------------------------

    def _account(self, pubkey: Pubkey, config: dict[str, Any], svm: LiteSVM | None = None) -> Any:
        return account_json(self.chain, pubkey, config.get("encoding") or "base64", svm)

    def rpc_getBalance(self, params: list[Any]) -> Any:
        slot, svm = self._state(_config(params, 1))
        return self._at(slot, svm.get_balance(_pubkey(params, 0)) or 0)

    def rpc_getAccountInfo(self, params: list[Any]) -> Any:
        config = _config(params, 1)
        slot, svm = self._state(config)
        return self._at(slot, self._account(_pubkey(params, 0), config, svm))

    def rpc_getMultipleAccounts(self, params: list[Any]) -> Any:
        keys = _param(params, 0, list, "pubkeys")
        if len(keys) > 100:
            raise RpcError(INVALID_PARAMS, "Too many inputs provided; max 100")
        config = _config(params, 1)
        slot, svm = self._state(config)
        return self._at(slot, [self._account(_pubkey(keys, i), config, svm) for i in range(len(keys))])

    def rpc_getProgramAccounts(self, params: list[Any]) -> Any:
        program = _pubkey(params, 0, "program id")
        config = _config(params, 1)
        filters = config.get("filters") or []
        if not isinstance(filters, list) or len(filters) > 4:
            raise RpcError(INVALID_PARAMS, "Invalid params: filters must be a list of at most 4")
        matches = []
        for address, account in self.chain.svm.get_program_accounts(program):
            data = bytes(account.data)
            if all(_matches(f, data) for f in filters):
                matches.append({"pubkey": str(address), "account": self._account(address, config)})
        matches.sort(key=lambda m: m["pubkey"])
        return self._context(matches, config.get("commitment")) if config.get("withContext") else matches

    def rpc_getTokenAccountBalance(self, params: list[Any]) -> Any:
        info = token_account(self.chain, _pubkey(params, 0, "token account"))
        if info is None:
            raise RpcError(INVALID_PARAMS, "Invalid param: not a Token account")
        return self._context(ui_amount(info["amount"], info["decimals"]), _config(params, 1).get("commitment"))

    def rpc_getTokenAccountsByOwner(self, params: list[Any]) -> Any:
        owner = str(_pubkey(params, 0, "owner"))
        selector = _param(params, 1, dict, "mint or programId filter")
        config = _config(params, 2)
        mint, program = selector.get("mint"), selector.get("programId")
        if (mint is None) == (program is None):
            raise RpcError(INVALID_PARAMS, "Invalid params: give exactly one of mint and programId")
        if program is not None and program not in TOKEN_PROGRAMS:
            raise RpcError(INVALID_PARAMS, "Invalid params: unrecognized Token program id")
        found = []
        for token_program in [program] if program else sorted(TOKEN_PROGRAMS):
            for address, _account in self.chain.svm.get_program_accounts(Pubkey.from_string(token_program)):
                info = token_account(self.chain, address)
                if info is None or info["owner"] != owner or (mint is not None and info["mint"] != mint):
                    continue
                account = account_json(self.chain, address, "base64")
                if config.get("encoding") == "jsonParsed":
                    parsed = {"mint": info["mint"], "owner": owner, "state": info["state"], "isNative": False,
                              "tokenAmount": ui_amount(info["amount"], info["decimals"])}  # fmt: skip
                    account["data"] = {"program": "spl-token", "parsed": {"info": parsed, "type": "account"},
                                       "space": account["space"]}  # fmt: skip
                found.append({"pubkey": str(address), "account": account})
        return self._context(sorted(found, key=lambda f: f["pubkey"]), config.get("commitment"))

    # -- transactions ----------------------------------------------------------------------------------

    def _decode_tx(self, params: list[Any]) -> VersionedTransaction:
        raw = _param(params, 0, str, "transaction")
        encoding = _config(params, 1).get("encoding") or "base58"
        try:
            data = base64.b64decode(raw, validate=True) if encoding == "base64" else base58.b58decode(raw)
            return VersionedTransaction.from_bytes(data)
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, f"failed to deserialize transaction: {exc}") from None

    def rpc_sendTransaction(self, params: list[Any]) -> Any:
        tx = self._decode_tx(params)
        config = _config(params, 1)
        if not config.get("skipPreflight") or False:
            self.chain.check(tx)
            simulated = self.chain.simulate(tx)
            if isinstance(simulated, FailedTransactionMetadata):
                meta = simulated.meta()
                data = {
                    "err": json.loads(simulated.to_json())["err"],
                    "logs": list(meta.logs()),
                    "accounts": None,
                    "unitsConsumed": meta.compute_units_consumed(),
                    "returnData": None,
                }
                raise RpcError(-32002, f"Transaction simulation failed: {simulated.err()}", data)
        executed = self.chain.send(tx)
        self.on_executed(executed)
        return executed.signature

    def rpc_simulateTransaction(self, params: list[Any]) -> Any:
        tx = self._decode_tx(params)
        result = self.chain.simulate(tx)
        failed = isinstance(result, FailedTransactionMetadata)
        meta = result.meta()
        return self._context(
            {
                "err": json.loads(result.to_json())["err"] if failed else None,
                "logs": list(meta.logs()),
                "accounts": None,
                "unitsConsumed": meta.compute_units_consumed(),
                "returnData": None,
            }
        )

    def rpc_requestAirdrop(self, params: list[Any]) -> Any:
        lamports = _param(params, 1, int, "lamports")
        if lamports <= 0:
            raise RpcError(INVALID_PARAMS, "Invalid params: lamports must be positive")
        executed = self.chain.airdrop(_pubkey(params, 0), lamports)
        self.on_executed(executed)
        return executed.signature

    def rpc_getSignatureStatuses(self, params: list[Any]) -> Any:
        signatures = _param(params, 0, list, "signatures")
        if len(signatures) > 256:
            raise RpcError(INVALID_PARAMS, "Too many inputs provided; max 256")
        values: list[Any] = []
        for signature in signatures:
            executed = self.chain.get(signature) if isinstance(signature, str) else None
            if executed is None:
                values.append(None)
                continue
            status = self.chain.status_of(executed.slot)
            values.append({
                "slot": executed.slot,
                "confirmations": None if status == "finalized" else self.chain.slot - executed.slot,
                "err": executed.err,
                "status": {"Err": executed.err} if executed.err else {"Ok": None},
                "confirmationStatus": status,
            })  # fmt: skip
        return self._context(values)

    def rpc_getSignaturesForAddress(self, params: list[Any]) -> Any:
        address = str(_pubkey(params, 0, "address"))
        config = _config(params, 1)
        limit = 1000 if config.get("limit") is None else config["limit"]
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise RpcError(INVALID_PARAMS, "Invalid params: limit must be 1..1000")
        newest = self.chain.slot_for(config.get("commitment"))
        signatures = self.chain.by_address.get(address, [])
        out: list[Any] = []
        started = config.get("before") is None
        for signature in reversed(signatures):
            if not started:
                started = signature == config["before"]
                continue
            if signature == config.get("until"):
                break
            executed = self.chain.transactions[signature]
            if executed.slot > newest:
                continue
            out.append({
                "signature": signature,
                "slot": executed.slot,
                "err": executed.err,
                "memo": None,
                "blockTime": executed.block_time,
                "confirmationStatus": self.chain.status_of(executed.slot),
            })  # fmt: skip
            if len(out) == limit:
                break
        return out

    def rpc_getTransaction(self, params: list[Any]) -> Any:
        signature = _param(params, 0, str, "signature")
        config = _config(params, 1) if len(params) > 1 and isinstance(params[1], dict) else {}
        encoding = (config.get("encoding") or "json") if config else (params[1] if len(params) > 1 else "json")
        if encoding not in ("json", "jsonParsed", "base64", "base58"):
            raise RpcError(INVALID_PARAMS, f"Invalid params: unsupported encoding {encoding}")
        executed = self.chain.get(signature)
        if executed is None or executed.slot > self.chain.slot_for(config.get("commitment")):
            return None
        return encode_transaction(executed, encoding, config.get("maxSupportedTransactionVersion"))

    # -- blocks ----------------------------------------------------------------------------------------

    def rpc_getBlocks(self, params: list[Any]) -> Any:
        start = _param(params, 0, int, "start slot")
        end = params[1] if len(params) > 1 and isinstance(params[1], int) else self.chain.finalized_slot
        if end - start > 500_000:
            raise RpcError(INVALID_PARAMS, "Slot range too large; max 500000")
        return [
            s
            for s in range(start, end + 1)
            if s in self.chain.slots and s <= self.chain.slot and s not in self.chain.dead
        ]

    def rpc_getBlock(self, params: list[Any]) -> Any:
        slot = self.chain.slots.get(_param(params, 0, int, "slot"))
        config = _config(params, 1)
        if slot is not None and slot.slot in self.chain.dead:
            raise RpcError(-32007, f"Slot {slot.slot} was skipped, or missing due to ledger jump to recent snapshot")
        if slot is None or slot.slot > self.chain.slot_for(config.get("commitment")):
            raise RpcError(-32004, "Block not available for slot")
        details = config.get("transactionDetails") or "full"
        block: dict[str, Any] = {
            "blockHeight": slot.slot,
            "blockTime": slot.block_time,
            "blockhash": slot.blockhash,
            "parentSlot": slot.parent,
            "previousBlockhash": slot.previous_blockhash,
        }
        if details == "full":
            version = config.get("maxSupportedTransactionVersion")
            encoding = config.get("encoding") or "json"
            block["transactions"] = [
                {k: v for k, v in encode_transaction(self.chain.transactions[s], encoding, version).items()
                 if k in ("transaction", "meta", "version")}
                for s in slot.transactions
            ]  # fmt: skip
        elif details == "signatures":
            block["signatures"] = list(slot.transactions)
        if config.get("rewards") is not False:
            block["rewards"] = []
        return block


def account_json(chain: Chain, pubkey: Pubkey, encoding: str = "base64", svm: LiteSVM | None = None) -> Any:
    """An account in the RPC's shape (from `svm`, by default the chain's newest state); None when it does not
    exist. jsonParsed falls back to base64, as the real RPC does for data it has no parser for."""
    if encoding not in ("base64", "base58", "jsonParsed"):
        raise RpcError(INVALID_PARAMS, f"Invalid params: unsupported encoding {encoding}")
    account = (chain.svm if svm is None else svm).get_account(pubkey)
    if account is None or (account.lamports == 0 and not account.data):
        return None
    data = bytes(account.data)
    encoded = [base58.b58encode(data).decode(), "base58"] if encoding == "base58" else [
        base64.b64encode(data).decode(), "base64"]  # fmt: skip
    return {
        "lamports": account.lamports,
        "owner": str(account.owner),
        "data": encoded,
        "executable": account.executable,
        "rentEpoch": 18446744073709551615,
        "space": len(data),
    }


def _matches(spec: Any, data: bytes) -> bool:
    """One getProgramAccounts filter: {"dataSize": n} or {"memcmp": {"offset": o, "bytes": b58 or base64}}."""
    if not isinstance(spec, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: a filter must be an object")
    if "dataSize" in spec:
        if not isinstance(spec["dataSize"], int):
            raise RpcError(INVALID_PARAMS, "Invalid params: dataSize must be an integer")
        return len(data) == spec["dataSize"]
    memcmp = spec.get("memcmp")
    if (
        not isinstance(memcmp, dict)
        or not isinstance(memcmp.get("offset"), int)
        or not isinstance(memcmp.get("bytes"), str)
    ):
        raise RpcError(INVALID_PARAMS, "Invalid params: filter must be dataSize or memcmp {offset, bytes}")
    try:
        wanted = (
            base64.b64decode(memcmp["bytes"], validate=True)
            if memcmp.get("encoding") == "base64"
            else base58.b58decode(memcmp["bytes"])
        )
    except ValueError:
        raise RpcError(INVALID_PARAMS, "Invalid params: memcmp bytes do not decode") from None
    offset = memcmp["offset"]
    return data[offset : offset + len(wanted)] == wanted


def _error_response(ident: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error.body(), "id": ident}


def _compiled(instruction: Any, stack_height: int | None) -> dict[str, Any]:
    return {
        "programIdIndex": instruction.program_id_index,
        "accounts": list(bytes(instruction.accounts)),
        "data": base58.b58encode(bytes(instruction.data)).decode(),
        "stackHeight": stack_height,
    }


def _parsed(instruction: Any, keys: list[str], stack_height: int | None) -> dict[str, Any]:
    accounts = [keys[i] for i in bytes(instruction.accounts)]
    return parse_instruction(keys[instruction.program_id_index], accounts, bytes(instruction.data), stack_height)


def _parsed_keys(keys: list[str], header: Any) -> list[dict[str, Any]]:
    signed, ro_signed, ro_unsigned = (
        header.num_required_signatures,
        header.num_readonly_signed_accounts,
        header.num_readonly_unsigned_accounts,
    )
    return [
        {
            "pubkey": key,
            "signer": i < signed,
            "writable": i < signed - ro_signed if i < signed else i < len(keys) - ro_unsigned,
            "source": "transaction",
        }
        for i, key in enumerate(keys)
    ]


def encode_transaction(executed: Executed, encoding: str, max_version: int | None) -> dict[str, Any]:
    """The getTransaction result for one executed transaction, in the RPC's own shape."""
    tx = executed.transaction
    message = tx.message
    is_v0 = isinstance(message, MessageV0)
    if is_v0 and max_version is None:
        raise RpcError(-32015, "Transaction version (0) is not supported by the requesting client. "
                       "Please try the request again with the following configuration parameter: "
                       '"maxSupportedTransactionVersion": 0')  # fmt: skip
    keys = [str(k) for k in executed.account_keys]
    if encoding in ("base64", "base58"):
        raw = bytes(tx)
        body: Any = [base64.b64encode(raw).decode(), "base64"] if encoding == "base64" else [
            base58.b58encode(raw).decode(), "base58"]  # fmt: skip
    else:
        header = message.header
        msg: dict[str, Any] = {
            "accountKeys": keys,
            "header": {
                "numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            },
            "recentBlockhash": str(message.recent_blockhash),
            "instructions": [_compiled(ix, 1) for ix in message.instructions],
        }
        if is_v0:
            msg["addressTableLookups"] = []
        if encoding == "jsonParsed":
            msg["accountKeys"] = _parsed_keys(keys, header)
            msg["instructions"] = [_parsed(ix, keys, None) for ix in message.instructions]
            del msg["header"]
        body = {"signatures": [str(s) for s in tx.signatures], "message": msg}
    encode_inner = (lambda ix, h: _parsed(ix, keys, h)) if encoding == "jsonParsed" else _compiled
    inner = [
        {"index": i, "instructions": [encode_inner(ii.instruction(), ii.stack_height()) for ii in group]}
        for i, group in enumerate(executed.inner_instructions)
        if group
    ]
    meta = {
        "err": executed.err,
        "status": {"Err": executed.err} if executed.err else {"Ok": None},
        "fee": executed.fee,
        "preBalances": list(executed.pre_balances),
        "postBalances": list(executed.post_balances),
        "innerInstructions": inner,
        "logMessages": list(executed.logs),
        "preTokenBalances": list(executed.pre_token_balances),
        "postTokenBalances": list(executed.post_token_balances),
        "rewards": [],
        "loadedAddresses": {"writable": [], "readonly": []},
        "computeUnitsConsumed": executed.compute_units,
    }
    result: dict[str, Any] = {
        "slot": executed.slot,
        "blockTime": executed.block_time,
        "transaction": body,
        "meta": meta,
    }
    if max_version is not None:
        result["version"] = 0 if is_v0 else "legacy"
    return result
