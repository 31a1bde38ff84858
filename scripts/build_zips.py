#!/usr/bin/env python3
"""Build dist/<function>.zip for each Lambda function, reproducibly.

Each zip holds, at its root: the handler module (functions/handlers/<function>.py as
<function>.py), the ddb2aurora package, and the pure-Python runtime dependencies pinned
with hashes in functions/requirements-lambda.txt (boto3 is left out: the Lambda runtime
provides it). Pure Python only, so one zip serves x86_64 and arm64; the build fails if a
dependency brings native code.

Reproducible: the same sources and wheels give byte-identical zips (sorted entries,
timestamps 1980-01-01, mode 0644, no bytecode, DEFLATE level 9 with the same zlib).
Wheels are cached in build/wheels, so a rebuild needs no network.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("stream_processor", "firehose_transform", "aurora_loader")
# The one list of the zips in dist/ (the names Terraform's package_path expects); the
# tests import it rather than spelling the names again.
ZIP_NAMES = {function: f"{function}.zip" for function in FUNCTIONS}
REQUIREMENTS = ROOT / "functions" / "requirements-lambda.txt"
PACKAGE = ROOT / "functions" / "ddb2aurora"
HANDLERS = ROOT / "functions" / "handlers"

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644  # regular file, rw-r--r--
ZIP_UNIX = 3
ZIP_LEVEL = 9
# Never shipped: bytecode (the runtime compiles), tests, and operator tooling (run by
# people, not by the functions).
SKIPPED_DIRECTORIES = {"__pycache__", "tests"}
SKIPPED_PACKAGE_DIRECTORIES = {"ops"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
NATIVE_SUFFIXES = {".so", ".pyd", ".dylib", ".dll"}


class BuildError(Exception):
    pass


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def download_wheels(cache: Path) -> None:
    """Fill the wheel cache: from the cache itself when it is complete (offline), else
    from the configured index. Hashes are always checked."""
    common = ["download", "--no-deps", "--only-binary=:all:", "--require-hashes"]
    common += ["--dest", str(cache), "--requirement", str(REQUIREMENTS)]
    cache.mkdir(parents=True, exist_ok=True)
    if pip(*common, "--no-index", "--find-links", str(cache)).returncode == 0:
        return
    online = pip(*common)
    if online.returncode != 0:
        raise BuildError(f"downloading the runtime dependencies failed:\n{online.stderr}")


def install_dependencies(cache: Path, target: Path) -> None:
    install = pip(
        "install",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--no-index",
        "--find-links",
        str(cache),
        "--no-compile",
        "--target",
        str(target),
        "--requirement",
        str(REQUIREMENTS),
    )
    if install.returncode != 0:
        raise BuildError(f"installing the runtime dependencies failed:\n{install.stderr}")


def check_pure_python(cache: Path, target: Path) -> None:
    """Fail on any wheel or installed file that is not pure Python."""
    problems = [
        f"wheel {wheel.name} is platform-specific"
        for wheel in sorted(cache.glob("*.whl"))
        if not wheel.name.endswith("-none-any.whl")
    ]
    problems += [
        f"native file {path.relative_to(target)}"
        for path in sorted(target.rglob("*"))
        if path.suffix in NATIVE_SUFFIXES or ".so." in path.name
    ]
    if problems:
        raise BuildError("runtime dependencies must be pure Python:\n  " + "\n  ".join(problems))


def tree_files(base: Path, skipped_top_directories: set[str]) -> dict[str, Path]:
    """Files under ``base`` by their zip name relative to ``base``'s parent folder."""
    files: dict[str, Path] = {}
    for directory, subdirectories, names in os.walk(base):
        here = Path(directory)
        skipped = set(SKIPPED_DIRECTORIES)
        if here == base:
            skipped |= skipped_top_directories
        subdirectories[:] = [name for name in subdirectories if name not in skipped]
        for name in names:
            path = here / name
            if path.suffix not in SKIPPED_SUFFIXES:
                files[path.relative_to(base.parent).as_posix()] = path
    return files


def function_files(function: str, site: Path) -> dict[str, Path]:
    handler = HANDLERS / f"{function}.py"
    if not handler.is_file():
        raise BuildError(f"handler module {handler.relative_to(ROOT)} is missing")
    files = {f"{function}.py": handler}
    files |= tree_files(PACKAGE, SKIPPED_PACKAGE_DIRECTORIES)
    for entry in sorted(site.iterdir()):
        if entry.name == "bin":  # console scripts pip generates; not importable
            continue
        if entry.is_dir():
            files |= tree_files(entry, set())
        elif entry.suffix not in SKIPPED_SUFFIXES:
            files[entry.name] = entry
    return files


def zip_content(name: str, path: Path) -> bytes:
    """A file's bytes as zipped. A wheel's RECORD also lists the console scripts pip wrote
    to bin/ (not zipped), hashed with the installing interpreter's path in their shebang,
    so those lines would make the zips differ by where the build ran: they are dropped."""
    content = path.read_bytes()
    if not name.endswith(".dist-info/RECORD"):
        return content
    lines = content.decode().splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("../")).encode()


def write_zip(destination: Path, files: dict[str, Path]) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = ZIP_UNIX
            info.external_attr = ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, zip_content(name, files[name]), compresslevel=ZIP_LEVEL)
    partial.replace(destination)


def build(dist: Path, cache: Path) -> dict[str, Path]:
    download_wheels(cache)
    with tempfile.TemporaryDirectory(prefix="ddb2aurora-site-") as site_directory:
        site = Path(site_directory)
        install_dependencies(cache, site)
        check_pure_python(cache, site)
        zips = {}
        for function in FUNCTIONS:
            destination = dist / ZIP_NAMES[function]
            write_zip(destination, function_files(function, site))
            zips[function] = destination
    return zips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--wheel-cache", type=Path, default=ROOT / "build" / "wheels", help="wheel cache"
    )
    options = parser.parse_args(argv)
    try:
        zips = build(options.dist.resolve(), options.wheel_cache.resolve())
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    for path in zips.values():
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown!s:<32} {len(data):>10,} bytes  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
