"""Post-linker: turn clang's BPF relocatable object into an SBPFv0 shared object the Solana loader runs.

`ld.lld -shared` cannot write it (it rejects BPF data relocations), so this module does the link step:

- executable sections are concatenated into `.text`, read-only data (`.rodata*`, `.data.rel.ro*`) into
  `.rodata`; every section is placed at virtual address = file offset, as the v0 loader requires;
- `lddw` (R_BPF_64_64) and 64-bit data pointers (R_BPF_64_ABS64) are resolved to absolute addresses
  at 0x1_0000_0000 + virtual address (where the loader maps the file);
- calls to functions defined in the object become pc-relative internal calls (the loader registers them);
- calls to undefined symbols are syscalls: `call -1` with src register 0 plus a dynamic R_BPF_64_32
  relocation against the name in `.dynsym` (the loader writes the name's murmur3 hash);
  memcpy/memmove/memset/memcmp map to the sol_* syscalls.
- writable data (`.data`, `.bss`) is refused: programs have no mutable globals.

The output is a pure function of the object's bytes (no timestamps, no paths), so builds are reproducible.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

__all__ = ["MM_PROGRAM_START", "PostLinkError", "link"]

MM_PROGRAM_START = 0x1_0000_0000
EM_BPF = 247
ET_DYN = 3

R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_32 = 10

OP_CALL = 0x85
OP_LDDW = 0x18

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

SHT_PROGBITS = 1
SHT_STRTAB = 3
SHT_DYNAMIC = 6
SHT_NOBITS = 8
SHT_REL = 9
SHT_DYNSYM = 11

PT_LOAD = 1
PT_DYNAMIC = 2
PF_X, PF_W, PF_R = 1, 2, 4

DT_NULL, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT = 0, 5, 6, 10, 11
DT_REL, DT_RELSZ, DT_RELENT, DT_TEXTREL = 17, 18, 19, 22

# C library names the compiler may emit calls to, and the syscalls with the same signature.
SYSCALL_ALIASES = {"memcpy": "sol_memcpy_", "memmove": "sol_memmove_", "memset": "sol_memset_"}

EHDR_SIZE, PHDR_SIZE, SHDR_SIZE, SYM_SIZE, REL_SIZE, DYN_SIZE = 64, 56, 64, 24, 16, 16


class PostLinkError(Exception):
    """The object cannot be linked into an SBPFv0 program (the message says why)."""


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


@dataclass
class _Layout:
    """Where each input section lands inside the merged output sections."""

    text: bytearray = field(default_factory=bytearray)
    rodata: bytearray = field(default_factory=bytearray)
    # input section index -> ("text" | "rodata", offset inside that output section)
    place: dict[int, tuple[str, int]] = field(default_factory=dict)


def _is_readonly_data(name: str) -> bool:
    return name.startswith((".rodata", ".data.rel.ro"))


def _collect(elf: ELFFile) -> _Layout:
    layout = _Layout()
    for index, section in enumerate(elf.iter_sections()):
        flags = section["sh_flags"]
        name = section.name
        if not flags & SHF_ALLOC:
            continue
        if flags & SHF_EXECINSTR:
            layout.text += b"\0" * (_align(len(layout.text), 8) - len(layout.text))
            layout.place[index] = ("text", len(layout.text))
            layout.text += section.data()
        elif _is_readonly_data(name) and section["sh_type"] == "SHT_PROGBITS":
            align = max(int(section["sh_addralign"]), 1)
            layout.rodata += b"\0" * (_align(len(layout.rodata), align) - len(layout.rodata))
            layout.place[index] = ("rodata", len(layout.rodata))
            layout.rodata += section.data()
        elif flags & SHF_WRITE or section["sh_type"] == "SHT_NOBITS":
            raise PostLinkError(
                f"section {name!r} is writable data: SBPF programs cannot have mutable globals "
                "(make it const, or put it on the stack or the heap)"
            )
        elif section.data_size:
            raise PostLinkError(f"section {name!r} is neither code nor read-only data")
    if not layout.text:
        raise PostLinkError("the object has no executable code")
    return layout


@dataclass(frozen=True)
class _Addresses:
    text: int
    rodata: int

    def of(self, kind: str) -> int:
        return self.text if kind == "text" else self.rodata


def _symtab(elf: ELFFile) -> SymbolTableSection:
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        raise PostLinkError("the object has no symbol table")
    return symtab


def _symbol_address(elf: ELFFile, layout: _Layout, addrs: _Addresses, sym_index: int) -> int | None:
    """The output virtual address of a defined symbol, or None when it is undefined (a syscall)."""
    symtab = _symtab(elf)
    sym = symtab.get_symbol(sym_index)
    shndx = sym["st_shndx"]
    if shndx == "SHN_UNDEF":
        return None
    if not isinstance(shndx, int) or shndx not in layout.place:
        raise PostLinkError(f"symbol {sym.name!r} lives in a section that is not linked ({shndx})")
    kind, offset = layout.place[shndx]
    return addrs.of(kind) + offset + int(sym["st_value"])


def _apply_relocations(elf: ELFFile, layout: _Layout, addrs: _Addresses) -> list[tuple[int, str]]:
    """Resolves every relocation in place; returns the syscall call sites (text offset, name)."""
    symtab = _symtab(elf)
    syscalls: list[tuple[int, str]] = []
    for rel_section in elf.iter_sections():
        if rel_section["sh_type"] == "SHT_RELA":
            raise PostLinkError(f"{rel_section.name}: RELA relocations are not expected from the BPF backend")
        if rel_section["sh_type"] != "SHT_REL" or not isinstance(rel_section, RelocationSection):
            continue
        target = rel_section["sh_info"]
        if target not in layout.place:
            continue  # relocations of a section we drop (debug info)
        kind, base = layout.place[target]
        buf = layout.text if kind == "text" else layout.rodata
        for rel in rel_section.iter_relocations():
            rtype, sym_index = rel["r_info_type"], rel["r_info_sym"]
            at = base + int(rel["r_offset"])
            name = symtab.get_symbol(sym_index).name
            address = _symbol_address(elf, layout, addrs, sym_index)
            if rtype == R_BPF_64_64 and kind == "text":
                if buf[at] != OP_LDDW or address is None:
                    raise PostLinkError(f"R_BPF_64_64 at {at:#x} is not an lddw of a defined symbol ({name!r})")
                addend = struct.unpack_from("<i", buf, at + 4)[0]
                value = MM_PROGRAM_START + address + addend
                struct.pack_into("<I", buf, at + 4, value & 0xFFFFFFFF)
                struct.pack_into("<I", buf, at + 12, value >> 32)
            elif rtype == R_BPF_64_ABS64 and address is not None:
                addend = struct.unpack_from("<q", buf, at)[0]
                struct.pack_into("<Q", buf, at, MM_PROGRAM_START + address + addend)
            elif rtype == R_BPF_64_32 and kind == "text" and buf[at] == OP_CALL:
                if address is None:
                    # A syscall: src register 0, imm -1; the loader writes the hash of the name.
                    buf[at + 1] &= 0x0F
                    struct.pack_into("<i", buf, at + 4, -1)
                    syscalls.append((addrs.text + at, SYSCALL_ALIASES.get(name, name)))
                else:
                    pc = (addrs.text + at) // 8
                    struct.pack_into("<i", buf, at + 4, (address // 8) - pc - 1)
            else:
                raise PostLinkError(f"unsupported relocation type {rtype} against {name!r} in {rel_section.name}")
    return syscalls


def _entrypoint(elf: ELFFile, layout: _Layout, addrs: _Addresses) -> tuple[int, int]:
    symtab = _symtab(elf)
    for index, sym in enumerate(symtab.iter_symbols()):
        if sym.name == "entrypoint" and sym["st_info"]["type"] == "STT_FUNC":
            address = _symbol_address(elf, layout, addrs, index)
            if address is not None:
                return address, int(sym["st_size"])
    raise PostLinkError("no `entrypoint` function defined")


class _StrTab:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.index: dict[str, int] = {}

    def add(self, name: str) -> int:
        if name not in self.index:
            self.index[name] = len(self.data)
            self.data += name.encode() + b"\0"
        return self.index[name]


def link(obj: bytes) -> bytes:
    """Links a relocatable BPF object (bytes) into an SBPFv0 shared object (bytes)."""
    elf = ELFFile(io.BytesIO(obj))
    if elf["e_machine"] not in ("EM_BPF", EM_BPF) or elf["e_type"] != "ET_REL" or elf.elfclass != 64:
        raise PostLinkError("the input is not a 64-bit relocatable BPF object (clang -target bpfel -c)")
    if not elf.little_endian:
        raise PostLinkError("the input is big-endian; compile with -target bpfel")
    layout = _collect(elf)

    n_phdrs = 4
    text_addr = _align(EHDR_SIZE + n_phdrs * PHDR_SIZE, 8)
    rodata_addr = _align(text_addr + len(layout.text), 8)
    addrs = _Addresses(text=text_addr, rodata=rodata_addr)
    syscalls = _apply_relocations(elf, layout, addrs)
    entry, entry_size = _entrypoint(elf, layout, addrs)

    # Dynamic symbols: the entrypoint, then the syscalls sorted by name (deterministic).
    dynstr = _StrTab()
    dynsym = bytearray(SYM_SIZE)
    dynsym += struct.pack("<IBBHQQ", dynstr.add("entrypoint"), 0x12, 0, 1, entry, entry_size)
    sym_ids: dict[str, int] = {}
    for name in sorted({name for _, name in syscalls}):
        sym_ids[name] = len(dynsym) // SYM_SIZE
        dynsym += struct.pack("<IBBHQQ", dynstr.add(name), 0x10, 0, 0, 0, 0)
    rel_dyn = bytearray()
    for offset, name in sorted(syscalls):
        rel_dyn += struct.pack("<QQ", offset, (sym_ids[name] << 32) | R_BPF_64_32)

    dynamic_addr = _align(rodata_addr + len(layout.rodata), 8)
    n_dyn = 9
    dynsym_addr = dynamic_addr + n_dyn * DYN_SIZE
    dynstr_addr = dynsym_addr + len(dynsym)
    rel_addr = _align(dynstr_addr + len(dynstr.data), 8)
    dynamic = b"".join(
        struct.pack("<qQ", tag, value)
        for tag, value in [
            (DT_REL, rel_addr),
            (DT_RELSZ, len(rel_dyn)),
            (DT_RELENT, REL_SIZE),
            (DT_SYMTAB, dynsym_addr),
            (DT_SYMENT, SYM_SIZE),
            (DT_STRTAB, dynstr_addr),
            (DT_STRSZ, len(dynstr.data)),
            (DT_TEXTREL, 0),
            (DT_NULL, 0),
        ]
    )
    shstr = _StrTab()
    shstrtab_addr = rel_addr + len(rel_dyn)
    names = [".text", ".rodata", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn", ".shstrtab"]
    for name in names:
        shstr.add(name)
    shoff = _align(shstrtab_addr + len(shstr.data), 8)

    out = bytearray(shoff)
    out[text_addr : text_addr + len(layout.text)] = layout.text
    out[rodata_addr : rodata_addr + len(layout.rodata)] = layout.rodata
    out[dynamic_addr : dynamic_addr + len(dynamic)] = dynamic
    out[dynsym_addr : dynsym_addr + len(dynsym)] = dynsym
    out[dynstr_addr : dynstr_addr + len(dynstr.data)] = dynstr.data
    out[rel_addr : rel_addr + len(rel_dyn)] = rel_dyn
    out[shstrtab_addr : shstrtab_addr + len(shstr.data)] = shstr.data

    # (name, type, flags, addr, size, link, info, align, entsize); file offset = addr for every section.
    sections = [
        (".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text_addr, len(layout.text), 0, 0, 8, 0),
        (".rodata", SHT_PROGBITS, SHF_ALLOC, rodata_addr, len(layout.rodata), 0, 0, 8, 0),
        (".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, dynamic_addr, len(dynamic), 5, 0, 8, DYN_SIZE),
        (".dynsym", SHT_DYNSYM, SHF_ALLOC, dynsym_addr, len(dynsym), 5, 1, 8, SYM_SIZE),
        (".dynstr", SHT_STRTAB, SHF_ALLOC, dynstr_addr, len(dynstr.data), 0, 0, 1, 0),
        (".rel.dyn", SHT_REL, SHF_ALLOC, rel_addr, len(rel_dyn), 4, 0, 8, REL_SIZE),
        (".shstrtab", SHT_STRTAB, 0, shstrtab_addr, len(shstr.data), 0, 0, 1, 0),
    ]
    out += bytes(SHDR_SIZE)
    for name, stype, flags, addr, size, lnk, info, align, entsize in sections:
        vaddr = addr if flags & SHF_ALLOC else 0
        out += struct.pack("<IIQQQQIIQQ", shstr.index[name], stype, flags, vaddr, addr, size, lnk, info, align, entsize)

    phdrs = [
        (PT_LOAD, PF_R | PF_X, text_addr, len(layout.text)),
        (PT_LOAD, PF_R, rodata_addr, len(layout.rodata)),
        (PT_LOAD, PF_R, dynamic_addr, shstrtab_addr - dynamic_addr),
        (PT_DYNAMIC, PF_R | PF_W, dynamic_addr, len(dynamic)),
    ]
    header = bytearray(b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8))
    header += struct.pack(
        "<HHIQQQIHHHHHH",
        ET_DYN,
        EM_BPF,
        1,
        entry,
        EHDR_SIZE,
        shoff,
        0,  # e_flags 0: SBPF v0
        EHDR_SIZE,
        PHDR_SIZE,
        len(phdrs),
        SHDR_SIZE,
        len(sections) + 1,
        len(sections),  # .shstrtab is the last section
    )
    for ptype, flags, addr, size in phdrs:
        header += struct.pack("<IIQQQQQQ", ptype, flags, addr, addr, addr, size, size, 8)
    out[: len(header)] = header
    return bytes(out)
