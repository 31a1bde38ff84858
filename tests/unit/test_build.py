"""The zip build: reproducible, pure Python, and each zip importable on its own."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from scripts import build_zips

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_PYTHONS = ("3.11", "3.12")
OPTIONAL_PYTHONS = ("3.13",)


def find_python(version: str) -> str | None:
    """An interpreter for ``version``: on PATH, or under pyenv's versions folder."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{version}*/bin/python{version}"))
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Path]]:
    """Two independent builds (the wheel cache under build/ is shared, as for make build)."""
    first = build_zips.build(tmp_path_factory.mktemp("dist-a"), ROOT / "build" / "wheels")
    second = build_zips.build(tmp_path_factory.mktemp("dist-b"), ROOT / "build" / "wheels")
    return first, second


def test_building_twice_gives_identical_zips(
    builds: tuple[dict[str, Path], dict[str, Path]],
) -> None:
    first, second = builds
    assert set(first) == {"stream_processor", "firehose_transform", "aurora_loader"}
    for function in first:
        assert sha256(first[function]) == sha256(second[function]), (
            function,
            differing_entries(first[function], second[function]),
        )


def differing_entries(a: Path, b: Path) -> list[str]:
    """Names whose metadata or content differ between two zips (for the failure message)."""
    with zipfile.ZipFile(a) as left, zipfile.ZipFile(b) as right:
        lefts = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in left.infolist()}
        rights = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in right.infolist()}
    return sorted(
        name for name in lefts.keys() | rights.keys() if lefts.get(name) != rights.get(name)
    )


@pytest.mark.parametrize("function", build_zips.FUNCTIONS)
def test_zip_entries_are_normalised_and_pure_python(
    builds: tuple[dict[str, Path], dict[str, Path]], function: str
) -> None:
    with zipfile.ZipFile(builds[0][function]) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert f"{function}.py" in names
    assert "ddb2aurora/__init__.py" in names
    assert "ddb2aurora/mapping.schema.json" in names
    for package in ("aws_lambda_powertools", "pymysql", "fastjsonschema", "jmespath"):
        assert f"{package}/__init__.py" in names
    assert "typing_extensions.py" in names
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert "__pycache__" not in info.filename
        assert not info.filename.endswith((".pyc", ".so", ".pyd", ".dylib"))
        assert not info.filename.startswith(("boto3/", "botocore/", "bin/", "ddb2aurora/ops/"))
        assert not info.filename.startswith("ddb2aurora/") or "/tests/" not in info.filename


@pytest.mark.parametrize("function", build_zips.FUNCTIONS)
def test_zip_content_does_not_depend_on_where_it_was_built(
    builds: tuple[dict[str, Path], dict[str, Path]], function: str
) -> None:
    """pip writes the installing interpreter's path into console scripts, and their hashes
    into RECORD: nothing of that may reach the zip, or zips differ between machines."""
    interpreter_directory = str(Path(sys.executable).parent).encode()
    with zipfile.ZipFile(builds[0][function]) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            assert interpreter_directory not in content, info.filename
            if info.filename.endswith(".dist-info/RECORD"):
                assert b"\n../" not in b"\n" + content, info.filename


def unpack(zip_path: Path, folder: Path) -> Path:
    folder.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    return folder


IMPORT_CHECK = """
import sys
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "site-packages" not in p]
module = __import__(sys.argv[2])
assert callable(module.handler)
assert "boto3" not in sys.modules and "botocore" not in sys.modules
print("ok", sys.version_info[:2])
"""


@pytest.mark.parametrize("version", REQUIRED_PYTHONS + OPTIONAL_PYTHONS)
def test_each_zip_imports_its_handler_alone(
    builds: tuple[dict[str, Path], dict[str, Path]], tmp_path: Path, version: str
) -> None:
    python = find_python(version)
    if python is None:
        if version in REQUIRED_PYTHONS:
            pytest.fail(f"python{version} is required for this check and was not found")
        pytest.skip(f"python{version} not installed")
    for function, zip_path in builds[0].items():
        folder = unpack(zip_path, tmp_path / function)
        # -I: no PYTHON* variables, no user site; -S plus the path filter: nothing but the
        # unpacked folder and the standard library; an empty environment: no settings.
        result = subprocess.run(
            [python, "-I", "-S", "-c", IMPORT_CHECK, str(folder), function],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"]},
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 0, f"{function} on {version}:\n{result.stderr}"


def test_stream_processor_zip_reports_missing_settings_on_first_invocation(
    builds: tuple[dict[str, Path], dict[str, Path]], tmp_path: Path
) -> None:
    folder = unpack(builds[0]["stream_processor"], tmp_path / "stream_processor")
    script = """
import sys, types
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "site-packages" not in p]
import stream_processor
from ddb2aurora.settings import ConfigurationError
context = types.SimpleNamespace(
    function_name="f", function_version="1", invoked_function_arn="arn", memory_limit_in_mb=128,
    aws_request_id="r", log_group_name="g", log_stream_name="s",
    get_remaining_time_in_millis=lambda: 1000)
try:
    stream_processor.handler({"Records": []}, context)
except ConfigurationError as error:
    print(error)
"""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(folder)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert "DELIVERY_STREAM_NAME is required" in result.stdout, result.stderr


def requirement_pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_lambda_requirements_match_the_project_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = requirement_pins(project)
    packaged = requirement_pins(build_zips.REQUIREMENTS.read_text().splitlines())
    for name, version in declared.items():
        assert packaged.get(name) == version, f"{name} is {version} in pyproject.toml"
    assert "boto3" not in packaged and "botocore" not in packaged
    hashed = re.findall(r"--hash=sha256:[0-9a-f]{64}", build_zips.REQUIREMENTS.read_text())
    assert len(hashed) == len(packaged)


def test_native_code_fails_the_build(tmp_path: Path) -> None:
    cache, site = tmp_path / "wheels", tmp_path / "site"
    (site / "fastjson").mkdir(parents=True)
    cache.mkdir()
    (site / "fastjson" / "_speedups.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (cache / "fastjson-1.0-cp312-cp312-manylinux2014_x86_64.whl").write_bytes(b"")
    with pytest.raises(build_zips.BuildError) as excinfo:
        build_zips.check_pure_python(cache, site)
    assert "fastjson-1.0-cp312-cp312-manylinux2014_x86_64.whl is platform-specific" in str(
        excinfo.value
    )
    assert "fastjson/_speedups.cpython-312-x86_64-linux-gnu.so" in str(excinfo.value)
