"""The package as pip installed it from the wheel: where it is, what it holds, its version."""

import importlib.metadata
import re
import struct
import sys
import sysconfig
from pathlib import Path

import safeconv

ROOT = Path(__file__).resolve().parents[3]


def test_safeconv_comes_from_the_installed_wheel():
    package = Path(safeconv.__file__).resolve().parent
    assert sys.prefix != sys.base_prefix, "not in a virtualenv"
    assert package.parent == Path(sysconfig.get_paths()["platlib"]).resolve(), package
    assert ROOT not in package.parents, f"imported from the source tree: {package}"
    installed = {str(path) for path in importlib.metadata.distribution("safeconv").files}
    for expected in (
        "safeconv/__init__.py",
        "safeconv/_native/safeconv.py",
        "safeconv/_native/libsafeconv_uniffi.so",
    ):
        assert expected in installed, expected


def section_names(elf: bytes) -> list:
    """The section names of a 64-bit little-endian ELF file."""
    assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "not a 64-bit little-endian ELF file"
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    headers = [elf[shoff + i * shentsize : shoff + (i + 1) * shentsize] for i in range(shnum)]
    strtab_offset, = struct.unpack_from("<Q", headers[shstrndx], 0x18)
    names = []
    for header in headers:
        name, = struct.unpack_from("<I", header, 0)
        start = strtab_offset + name
        names.append(elf[start : elf.index(b"\0", start)].decode())
    return names


def test_the_native_library_is_stripped():
    library = Path(safeconv.__file__).parent / "_native" / "libsafeconv_uniffi.so"
    names = section_names(library.read_bytes())
    assert ".dynsym" in names  # what ctypes looks the functions up in
    assert ".symtab" not in names and not [n for n in names if n.startswith(".debug")], names


def cargo_version() -> str:
    manifest = (ROOT / "Cargo.toml").read_text()
    package = manifest.split("[package]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', package, re.MULTILINE).group(1)


def test_one_version_from_cargo_toml():
    assert safeconv.__version__ == cargo_version()
    assert safeconv.__version__ == safeconv.safeconv_version()
    assert importlib.metadata.version("safeconv") == safeconv.__version__
