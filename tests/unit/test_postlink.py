"""The post-linker and the build: SBPFv0 layout of the output, syscall relocations, refusal of writable
data with a clear error, reproducibility, and the discriminators hard-coded in the C sources."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from programs.gift_pool import build
from programs.gift_pool.postlink import MM_PROGRAM_START, PostLinkError, link

SRC = build.SOURCE.parent
needs_clang = pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")


def compile_c(tmp_path: Path, source: str) -> bytes:
    path = tmp_path / "t.c"
    path.write_text(source)
    build.compile_object(path, tmp_path / "t.o")
    return (tmp_path / "t.o").read_bytes()


def test_disc_header_matches_sha256_of_the_names() -> None:
    text = (SRC / "disc.h").read_text()
    found = re.findall(r"#define (IX|EV|ACC)_(\w+) 0x([0-9a-f]{16})ULL", text)
    assert len(found) == 12 + 8 + 2
    for kind, name, value in found:
        if kind == "IX":
            preimage = "global:" + name.lower()
        else:
            camel = "".join(part.title() for part in name.split("_"))
            preimage = ("event:" if kind == "EV" else "account:") + camel
        expected = hashlib.sha256(preimage.encode()).digest()[:8]
        assert int(value, 16).to_bytes(8, "little") == expected, preimage


def test_committed_so_is_an_sbpf_v0_shared_object() -> None:
    so = build.SO_PATH.read_bytes()
    elf = ELFFile(io.BytesIO(so))
    assert elf["e_type"] == "ET_DYN" and elf["e_machine"] == "EM_BPF" and elf["e_flags"] == 0
    names = [s.name for s in elf.iter_sections()]
    assert names == ["", ".text", ".rodata", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn", ".shstrtab"]
    for section in elf.iter_sections():
        if section["sh_flags"] & 2:  # SHF_ALLOC: virtual address = file offset
            assert section["sh_addr"] == section["sh_offset"], section.name
    text = elf.get_section_by_name(".text")
    assert text["sh_addr"] <= elf["e_entry"] < text["sh_addr"] + text["sh_size"]
    # No paths or build machine names in the bytes.
    assert b"/work" not in so and b"/tmp" not in so and b"gift_pool.c" not in so


def test_syscalls_are_call_minus_one_with_a_dynamic_relocation() -> None:
    so = build.SO_PATH.read_bytes()
    elf = ELFFile(io.BytesIO(so))
    rel = elf.get_section_by_name(".rel.dyn")
    dynsym = elf.get_section_by_name(".dynsym")
    names = set()
    for entry in rel.iter_relocations():
        assert entry["r_info_type"] == 10  # R_BPF_64_32
        offset = entry["r_offset"]
        opcode, regs, _, imm = struct.unpack_from("<BBhi", so, offset)
        assert (opcode, regs >> 4, imm) == (0x85, 0, -1)
        names.add(dynsym.get_symbol(entry["r_info_sym"]).name)
    assert {"sol_log_", "sol_log_data", "sol_invoke_signed_c", "sol_sha256"} <= names
    assert all(n.startswith("sol_") for n in names)


@needs_clang
def test_lddw_and_internal_calls_are_resolved(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        """
        extern void sol_log_(const char *, unsigned long long);
        static const char msg[] = "hello";
        __attribute__((noinline)) static unsigned long long twice(unsigned long long x) { return x * 2; }
        unsigned long long entrypoint(unsigned char *input) { sol_log_(msg, 5); return twice(*input); }
        """,
    )
    so = link(obj)
    elf = ELFFile(io.BytesIO(so))
    text = elf.get_section_by_name(".text")
    rodata = elf.get_section_by_name(".rodata")
    code = text.data()
    lddw = [i for i in range(0, len(code), 8) if code[i] == 0x18]
    assert lddw, "expected an lddw of the string"
    lo, hi = struct.unpack_from("<I", code, lddw[0] + 4)[0], struct.unpack_from("<I", code, lddw[0] + 12)[0]
    address = (hi << 32) | lo
    assert address - MM_PROGRAM_START - rodata["sh_addr"] == rodata.data().index(b"hello")
    calls = [i for i in range(0, len(code), 8) if code[i] == 0x85]
    internal = [i for i in calls if struct.unpack_from("<i", code, i + 4)[0] != -1]
    assert len(internal) == 1  # twice(): pc-relative to a function inside .text
    target = internal[0] // 8 + 1 + struct.unpack_from("<i", code, internal[0] + 4)[0]
    assert 0 <= target < len(code) // 8


@needs_clang
def test_writable_globals_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path, "unsigned long long counter = 1;\nunsigned long long entrypoint(void) { return ++counter; }\n"
    )
    with pytest.raises(PostLinkError, match="writable data"):
        link(obj)


def test_non_bpf_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PostLinkError, match="not a 64-bit relocatable BPF object"):
        link(Path("/bin/true").read_bytes())


@needs_clang
def test_build_is_reproducible_and_verify_detects_a_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = build.build(tmp_path / "a.so")
    second = build.build(tmp_path / "b.so")
    assert first == second == build.SO_PATH.read_bytes()
    assert build.main(["--verify"]) == 0
    tampered = tmp_path / "tampered.so"
    tampered.write_bytes(first[:-1] + bytes([first[-1] ^ 1]))
    assert build.main(["--verify", "--out", str(tampered)]) == 1
    assert "MISMATCH" in capsys.readouterr().err


@needs_clang
def test_compile_errors_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.c"
    bad.write_text("int entrypoint( {")
    with pytest.raises(build.BuildError, match="clang failed"):
        build.compile_object(bad, tmp_path / "bad.o")


@needs_clang
def test_pointers_in_read_only_data_become_absolute_addresses(tmp_path: Path) -> None:
    obj = compile_c(
        tmp_path,
        """
        static const char *const names[] = {"alpha", "beta"};
        unsigned long long entrypoint(unsigned char *input) { return (unsigned long long)names[*input & 1]; }
        """,
    )
    so = link(obj)
    elf = ELFFile(io.BytesIO(so))
    rodata = elf.get_section_by_name(".rodata")
    data, base = rodata.data(), rodata["sh_addr"]
    words = [struct.unpack_from("<Q", data, off)[0] for off in range(0, len(data) - 7, 8)]
    pointers = {w for w in words if MM_PROGRAM_START <= w < MM_PROGRAM_START + len(so)}
    targets = {data[p - MM_PROGRAM_START - base :].split(b"\0")[0] for p in pointers}
    assert targets == {b"alpha", b"beta"}
