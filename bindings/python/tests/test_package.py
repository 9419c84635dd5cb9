"""The package as pip installed it from the wheel: where it is, what it holds, its version, and
type hints that type-check (mypy must be installed next to pytest, as scripts/test-python.sh
does)."""

import importlib.metadata
import re
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import safeconv

ROOT = Path(__file__).resolve().parents[3]
TYPING = Path(__file__).resolve().parent / "typing"


def test_safeconv_comes_from_the_installed_wheel():
    package = Path(safeconv.__file__).resolve().parent
    assert sys.prefix != sys.base_prefix, "not in a virtualenv"
    assert package.parent == Path(sysconfig.get_paths()["platlib"]).resolve(), package
    assert ROOT not in package.parents, f"imported from the source tree: {package}"
    installed = {str(path) for path in importlib.metadata.distribution("safeconv").files}
    for expected in (
        "safeconv/__init__.py",
        "safeconv/__init__.pyi",
        "safeconv/py.typed",
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


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def mypy(*files: Path, cwd: Path) -> subprocess.CompletedProcess:
    config = ("--config-file", str(TYPING / "mypy.ini"), "--cache-dir", str(cwd / ".mypy"))
    return run("mypy", *config, *map(str, files), cwd=cwd)


def test_usage_type_checks_with_mypy_strict(tmp_path):
    checked = mypy(ROOT / "examples" / "python" / "agent_console.py", TYPING / "usage.py", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_type_errors_are_caught(tmp_path):
    """Each line of mistakes.py that ends with `# error` must be reported, and no other."""
    mistakes = TYPING / "mistakes.py"
    expected = {n for n, line in enumerate(mistakes.read_text().splitlines(), 1) if line.rstrip().endswith("# error")}
    checked = mypy(mistakes, cwd=tmp_path)
    reported = {int(m.group(1)) for m in re.finditer(r"^[^:\n]*mistakes\.py:(\d+): error:", checked.stdout, re.MULTILINE)}
    assert expected and reported == expected, checked.stdout


def test_the_stub_matches_the_runtime(tmp_path):
    allowlist = TYPING / "stubtest-allowlist.txt"
    checked = run(
        "mypy.stubtest", "safeconv", "--mypy-config-file", str(TYPING / "mypy.ini"), "--allowlist", str(allowlist), cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
