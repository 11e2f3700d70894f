"""kms_ref as one file: a zipapp (PEP 441) that any CPython ≥ 3.9 runs, `python3 kms-ref.pyz …`.

    python3 -m kms_ref.pyz [OUTDIR]      → OUTDIR/kms-ref.pyz and OUTDIR/SHA256SUMS (default dist/)
    cd OUTDIR && sha256sum -c SHA256SUMS  (on the host it was carried to)

The archive holds the package's modules and data files (the BIP39 word list, the self-test's
known answers) and, at its root, a `__main__.py` that runs the command line: every command, the
daemon, the sandbox and `demo` work from it, also under `python3 -I -S` (no site-packages, no
current directory), because kms_ref needs nothing but the standard library and reads its data
with `pkgutil.get_data`, which a zip importer serves. The builder (`pyz/`) and the benchmarks
(`bench/`) are tools, not the program, and stay out.

Reproducible: two builds of the same tree give the same bytes, so anyone can rebuild the file
and compare it with SHA256SUMS. Everything that could differ between builds is fixed: the order
(sorted by path), every timestamp (1980-01-01, the earliest a zip can hold), the permissions
(0644), no `__pycache__` or other stray files, and no compression — deflate's output depends on
the zlib build (zlib-ng, which some distributions ship, compresses differently), stored bytes do
not. The archive is about three times larger for it, still well under a megabyte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipapp
import zipfile

ARCHIVE_NAME = "kms-ref.pyz"
SUMS_NAME = "SHA256SUMS"
DEFAULT_OUTDIR = "dist"
INTERPRETER = "/usr/bin/env python3"           # the shebang zipapp writes in front of the zip
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)              # the zip format's earliest date (MS-DOS time)
FILE_MODE = 0o644
PACKAGED_SUFFIXES = (".py", ".txt", ".json")   # modules and package data; nothing else
LEFT_OUT = ("bench", "pyz")                    # the package's tools, not the program

# The archive's own __main__.py. Python 2.7-3.8 must be able to parse it (and kms_ref/__init__.py,
# which it imports first) to print one line instead of a traceback.
ARCHIVE_MAIN = b'''# kms-ref.pyz: the whole kms_ref program in one file (built by `python3 -m kms_ref.pyz`).
import sys

if sys.version_info < (3, 9):
    sys.exit("kms_ref needs Python 3.9 or newer")

from kms_ref.cli.main import main

main()
'''


def package_dir() -> str:
    """The kms_ref directory this builder belongs to (it builds from a source tree, not a zip)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(os.path.join(here, "__init__.py")):
        raise ValueError("build kms-ref.pyz from a source tree (python3 -m kms_ref.pyz), "
                         "not from inside an archive")
    return here


def package_files(root: str) -> list:
    """[(name in the archive, path on disk)], sorted by name: every module and data file of the
    package under `root`, but not __pycache__, dot-files, `bench/` or `pyz/`."""
    files = []
    for directory, subdirs, names in os.walk(root):
        relative = os.path.relpath(directory, root)
        if relative == ".":
            subdirs[:] = [d for d in subdirs if d not in LEFT_OUT]
        subdirs[:] = [d for d in subdirs if d != "__pycache__" and not d.startswith(".")]
        for name in names:
            if name.endswith(PACKAGED_SUFFIXES) and not name.startswith("."):
                parts = [] if relative == "." else relative.split(os.sep)
                files.append(("/".join(["kms_ref", *parts, name]), os.path.join(directory, name)))
    return sorted(files)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3                         # "Unix", whatever system builds it
    info.external_attr = (0o100000 | FILE_MODE) << 16   # a regular file, rw-r--r--
    info.compress_type = zipfile.ZIP_STORED
    return info


def archive_bytes(root: str) -> bytes:
    """The zip archive (without the shebang line): __main__.py, then the package in path order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("__main__.py"), ARCHIVE_MAIN)
        for name, path in package_files(root):
            with open(path, "rb") as f:
                archive.writestr(_entry(name), f.read())
    return buffer.getvalue()


def build(outdir: str = DEFAULT_OUTDIR) -> dict:
    """Write OUTDIR/kms-ref.pyz and OUTDIR/SHA256SUMS; what was written."""
    zipped = io.BytesIO(archive_bytes(package_dir()))
    pyz = io.BytesIO()
    zipapp.create_archive(zipped, pyz, interpreter=INTERPRETER)
    data = pyz.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(outdir, exist_ok=True)
    target = os.path.join(outdir, ARCHIVE_NAME)
    _write(target, data, 0o755)
    _write(os.path.join(outdir, SUMS_NAME), ("%s  %s\n" % (digest, ARCHIVE_NAME)).encode("ascii"), 0o644)
    return {"pyz": target, "sha256": digest, "bytes": len(data)}


def _write(path: str, data: bytes, mode: int) -> None:
    """Write by temporary file and rename, so that a reader never sees half an archive."""
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if len(argv) > 1 or (argv and argv[0].startswith("-")):
            raise ValueError("usage: python3 -m kms_ref.pyz [OUTDIR]   (default %s/)" % DEFAULT_OUTDIR)
        result = build(argv[0] if argv else DEFAULT_OUTDIR)
    except (OSError, ValueError) as e:
        sys.stderr.write(json.dumps({"error": str(e)}) + "\n")
        return 1
    print(json.dumps(result, indent=2))
    return 0
