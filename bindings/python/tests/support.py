"""Shared by the tests in this folder: constants, a temporary folder per test, the
C program of examples/interop/interop.c.

Tests of the localkms Python binding: what is the binding's own (the ctypes
declarations against the header and the C layout, ownership and wiping, close and
finalizers, the clock callback, status -> exception mapping, option arguments,
threads through the binding, blobs exchanged with C). What the library does with
keys, versions, rotation, expiry and deletion is tested once, in the Rust suite
(tests/service_behaviour.rs, tests/threads.rs); each area has one smoke test here.

Run through ../run-tests.sh, which installs the package into a fresh virtual
environment, installs the library into a temporary prefix (the package finds it
through pkg-config) and builds examples/interop/interop.c (LOCALKMS_INTEROP).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import localkms

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]  # tests -> python -> bindings -> the repository
INCLUDE_DIR = Path(os.environ.get("LOCALKMS_INCLUDE_DIR", REPO / "include"))
HEADER = INCLUDE_DIR / "localkms.h"

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
KEY_ID = re.compile(r"^key-[a-z0-9]{21}$")
DAY = 24 * 60 * 60
JAN_1_2026 = 1767225600  # 2026-01-01T00:00:00Z

# The blob's algorithm byte (docs/c-api.md, section 3).
ALGORITHM_BYTE = {"AES_CBC": 1, "AES_GCM": 2, "AES_ECB": 3, "SM4_GCM": 4, "SM4_CBC": 5, "SM4_ECB": 6}
IV_LEN = {"AES_GCM": 12, "AES_CBC": 16, "AES_ECB": 0}
# What a key must be created with for the tests that use the block modes: a key
# created without algorithms permits AES_GCM only.
ALL_AES = ["AES_GCM", "AES_CBC", "AES_ECB"]

try:  # only to stand in for the cloud in TestMirroredCloudKey; never required
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover - depends on the machine
    AESGCM = None


def write_master_key_file(path: Path, key: bytes | None = None, mode: int = 0o600) -> bytes:
    """A master-key file holding `key` (random by default) as 64 hex digits."""
    key = key if key is not None else os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    os.chmod(path, mode)
    return key


class TempDirTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="localkms-py-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)


def in_memory(test: unittest.TestCase) -> localkms.Client:
    client = localkms.Client.in_memory()
    test.addCleanup(client.close)
    return client


# --- the C side --------------------------------------------------------------------------
def run_interop(*args: str) -> str:
    """Runs examples/interop/interop.c, compiled by run-tests.sh (LOCALKMS_INTEROP)."""
    program = os.environ.get("LOCALKMS_INTEROP")
    if not program:
        raise AssertionError(
            "LOCALKMS_INTEROP must name the compiled examples/interop/interop.c; "
            "bindings/python/run-tests.sh builds it"
        )
    result = subprocess.run([program, *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"interop {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout.strip()


# The modes the round-trip and interop tests run through.
MODES = [
    ("AES_GCM", None, None),
    ("AES_GCM", None, b"tenant=42"),
    ("AES_CBC", "PKCS7_PADDING", None),
    ("AES_CBC", "NO_PADDING", None),
    ("AES_ECB", "PKCS7_PADDING", None),
    ("AES_ECB", "NO_PADDING", None),
]
