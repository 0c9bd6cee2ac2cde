"""Borsh readers compiled once per IDL type: `compile_type(t, types)` gives `read(buf, offset) -> (value, offset)`.

Values come out JSON-able (see model.py): ints of any width as int, pubkeys base58, byte arrays lists of
ints, options None or the value, unit enum variants their name, variants with fields `{name: fields}`.
A read past the end raises `ShortRead`; the decoder turns that into a warning, never a crash.

Strings are where the chain's bytes become text, so this is the one place they are made safe to store:
whoever sends a transaction controls its strings (a fan writes the memo; the program checks only its
length), and PostgreSQL's text and JSONB refuse NUL, which UTF-8 decoding keeps. Invalid UTF-8 and NUL
both become U+FFFD (decoding with errors="replace" never yields a lone surrogate: encoded surrogates are
invalid UTF-8 and are replaced too). When that changed anything, the value is a `LossyText`: a `str` like
any other (JSON, comparisons, the database see the clean text) whose `raw` holds the exact bytes, so the
projection can keep them beside the text where a person may need them (a gift's memo and post id).
Keeping the bytes on the value itself, rather than in a side table, lets them follow the string through
any nesting (a batch gift's vec of structs) without the reader knowing where strings sit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from solders.pubkey import Pubkey

__all__ = ["LossyText", "Reader", "ShortRead", "compile_fields", "compile_type", "text_of"]

Reader = Callable[[bytes, int], tuple[Any, int]]


class ShortRead(Exception):
    """The bytes ended (or held an impossible value) before the type did."""


def _fixed(fmt: str) -> Reader:
    unpack = struct.Struct("<" + fmt).unpack_from
    size = struct.calcsize("<" + fmt)

    def read(buf: bytes, off: int) -> tuple[Any, int]:
        end = off + size
        if end > len(buf):
            raise ShortRead(f"{fmt} at {off} needs {size} bytes, {len(buf) - off} left")
        return unpack(buf, off)[0], end

    return read


def _wide(size: int, signed: bool) -> Reader:
    def read(buf: bytes, off: int) -> tuple[Any, int]:
        end = off + size
        if end > len(buf):
            raise ShortRead(f"{size * 8}-bit integer at {off}: {len(buf) - off} bytes left")
        return int.from_bytes(buf[off:end], "little", signed=signed), end

    return read


def _bool(buf: bytes, off: int) -> tuple[Any, int]:
    if off >= len(buf):
        raise ShortRead(f"bool at {off}: no bytes left")
    value = buf[off]
    if value > 1:
        raise ShortRead(f"bool at {off} is {value}")
    return value == 1, off + 1


def _pubkey(buf: bytes, off: int) -> tuple[Any, int]:
    end = off + 32
    if end > len(buf):
        raise ShortRead(f"pubkey at {off}: {len(buf) - off} bytes left")
    return str(Pubkey.from_bytes(buf[off:end])), end


_u32 = struct.Struct("<I").unpack_from


def _length(buf: bytes, off: int) -> tuple[int, int]:
    if off + 4 > len(buf):
        raise ShortRead(f"length at {off}: {len(buf) - off} bytes left")
    return _u32(buf, off)[0], off + 4


class LossyText(str):
    """Text that is not exactly its bytes (invalid UTF-8 or NUL became U+FFFD); `raw` holds the bytes."""

    raw: bytes

    def __new__(cls, text: str, raw: bytes) -> LossyText:
        value = super().__new__(cls, text)
        value.raw = raw
        return value

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the bytes
        return (LossyText, (str(self), self.raw))


def text_of(raw: bytes) -> str:
    """`raw` as text PostgreSQL accepts: a plain str when it is exactly the bytes, else a LossyText."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return LossyText(raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd"), raw)
    if "\x00" in text:
        return LossyText(text.replace("\x00", "\ufffd"), raw)
    return text


def _string(buf: bytes, off: int) -> tuple[Any, int]:
    size, off = _length(buf, off)
    end = off + size
    if end > len(buf):
        raise ShortRead(f"string of {size} bytes at {off}: {len(buf) - off} left")
    return text_of(buf[off:end]), end


def _bytes(buf: bytes, off: int) -> tuple[Any, int]:
    size, off = _length(buf, off)
    end = off + size
    if end > len(buf):
        raise ShortRead(f"bytes of {size} at {off}: {len(buf) - off} left")
    return list(buf[off:end]), end


_PRIMITIVES: dict[str, Reader] = {
    "u8": _fixed("B"),
    "i8": _fixed("b"),
    "u16": _fixed("H"),
    "i16": _fixed("h"),
    "u32": _fixed("I"),
    "i32": _fixed("i"),
    "u64": _fixed("Q"),
    "i64": _fixed("q"),
    "f32": _fixed("f"),
    "f64": _fixed("d"),
    "u128": _wide(16, False),
    "i128": _wide(16, True),
    "u256": _wide(32, False),
    "i256": _wide(32, True),
    "bool": _bool,
    "pubkey": _pubkey,
    "publicKey": _pubkey,
    "string": _string,
    "bytes": _bytes,
}


def _option(inner: Reader, tag_size: int) -> Reader:
    def read(buf: bytes, off: int) -> tuple[Any, int]:
        if off + tag_size > len(buf):
            raise ShortRead(f"option tag at {off}: no bytes left")
        tag = int.from_bytes(buf[off : off + tag_size], "little")
        off += tag_size
        if tag == 0:
            return None, off
        if tag != 1:
            raise ShortRead(f"option tag at {off - tag_size} is {tag}")
        return inner(buf, off)

    return read


def _repeat(inner: Reader, buf: bytes, off: int, count: int) -> tuple[list[Any], int]:
    out = []
    for _ in range(count):
        value, off = inner(buf, off)
        out.append(value)
    return out, off


def _vec(inner: Reader) -> Reader:
    def read(buf: bytes, off: int) -> tuple[Any, int]:
        size, off = _length(buf, off)
        if size > len(buf) - off:  # every element takes at least a byte: a longer length is corrupt
            raise ShortRead(f"vec of {size} at {off}: {len(buf) - off} bytes left")
        return _repeat(inner, buf, off, size)

    return read


def _array(inner: Reader, size: int, is_u8: bool) -> Reader:
    if is_u8:

        def read_bytes(buf: bytes, off: int) -> tuple[Any, int]:
            end = off + size
            if end > len(buf):
                raise ShortRead(f"[u8; {size}] at {off}: {len(buf) - off} bytes left")
            return list(buf[off:end]), end

        return read_bytes

    def read(buf: bytes, off: int) -> tuple[Any, int]:
        return _repeat(inner, buf, off, size)

    return read


def compile_fields(fields: Any, types: Mapping[str, Any], cache: dict[str, Reader] | None = None) -> Reader:
    """Named fields ([{"name", "type"}]) read into a dict; tuple fields ([type, ...]) into a list."""
    cache = {} if cache is None else cache
    if not fields:
        return lambda buf, off: ({}, off)
    if all(isinstance(f, dict) and "name" in f for f in fields):
        named = [(str(f["name"]), compile_type(f["type"], types, cache)) for f in fields]

        def read_named(buf: bytes, off: int) -> tuple[Any, int]:
            out = {}
            for name, reader in named:
                out[name], off = reader(buf, off)
            return out, off

        return read_named
    positional = [compile_type(f["type"] if isinstance(f, dict) else f, types, cache) for f in fields]

    def read_tuple(buf: bytes, off: int) -> tuple[Any, int]:
        out = []
        for reader in positional:
            value, off = reader(buf, off)
            out.append(value)
        return out, off

    return read_tuple


def _enum(variants: list[Any], types: Mapping[str, Any], cache: dict[str, Reader]) -> Reader:
    compiled: list[tuple[str, Reader | None]] = []
    for variant in variants:
        fields = variant.get("fields") if isinstance(variant, dict) else None
        name = str(variant["name"]) if isinstance(variant, dict) else str(variant)
        compiled.append((name, compile_fields(fields, types, cache) if fields else None))

    def read(buf: bytes, off: int) -> tuple[Any, int]:
        if off >= len(buf):
            raise ShortRead(f"enum tag at {off}: no bytes left")
        tag = buf[off]
        if tag >= len(compiled):
            raise ShortRead(f"enum tag {tag} at {off}: only {len(compiled)} variants")
        name, reader = compiled[tag]
        if reader is None:
            return name, off + 1
        value, end = reader(buf, off + 1)
        return {name: value}, end

    return read


def _defined_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and "name" in spec:
        return str(spec["name"])
    raise ValueError(f"unreadable defined type {spec!r}")


def compile_type(t: Any, types: Mapping[str, Any], cache: dict[str, Reader] | None = None) -> Reader:
    """A reader for one IDL type (both IDL formats' spellings). `types` maps a name to its type definition."""
    cache = {} if cache is None else cache
    if isinstance(t, str):
        if t in _PRIMITIVES:
            return _PRIMITIVES[t]
        raise ValueError(f"unknown type {t!r}")
    if not isinstance(t, dict) or len(t) != 1:
        raise ValueError(f"unreadable type {t!r}")
    ((kind, spec),) = t.items()
    if kind == "option":
        return _option(compile_type(spec, types, cache), 1)
    if kind == "coption":
        return _option(compile_type(spec, types, cache), 4)
    if kind == "vec":
        return _vec(compile_type(spec, types, cache))
    if kind == "array":
        inner, size = spec
        if not isinstance(size, int):
            raise ValueError(f"array length {size!r} is not a number (generic lengths are not supported)")
        return _array(compile_type(inner, types, cache), size, inner == "u8")
    if kind == "defined":
        name = _defined_name(spec)
        if name in cache:
            return cache[name]
        if name not in types:
            raise ValueError(f"type {name!r} is not defined in the IDL")
        slot: list[Reader] = []
        cache[name] = lambda buf, off: slot[0](buf, off)  # recursive types see the reader being built
        definition = types[name]
        body = definition.get("type", definition)
        try:
            if body.get("kind") == "enum":
                reader = _enum(body.get("variants", []), types, cache)
            elif body.get("kind") == "struct":
                reader = compile_fields(body.get("fields", []), types, cache)
            elif body.get("kind") == "type" and "alias" in body:
                reader = compile_type(body["alias"], types, cache)
            else:
                raise ValueError(f"type {name!r} has an unsupported kind {body.get('kind')!r}")
        except (ValueError, KeyError, TypeError):
            del cache[name]  # no half-built placeholder for the next user of the type
            raise
        slot.append(reader)
        cache[name] = reader
        return reader
    raise ValueError(f"unknown type kind {kind!r}")
