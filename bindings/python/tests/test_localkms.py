"""Tests of the localkms Python binding: what is the binding's own (the ctypes
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

import array
import ctypes
import datetime
import gc
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import localkms
from localkms import Status, _lib
from localkms.errors import STATUS_TABLE, error_class

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


# --- the declarations ---------------------------------------------------------------------
class TestDeclarations(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.header = HEADER.read_text()

    def header_functions(self) -> dict[str, int]:
        """name -> number of parameters, for every function in the header."""
        found = {}
        for match in re.finditer(
            r"^(?:kms_status|void|uint16_t|const char \*)\s*(kms_\w+)\((.*?)\);",
            self.header,
            re.M | re.S,
        ):
            params = match.group(2).strip()
            found[match.group(1)] = 0 if params == "void" else params.count(",") + 1
        return found

    def test_every_header_function_is_declared_with_its_arity(self) -> None:
        functions = self.header_functions()
        self.assertGreaterEqual(len(functions), 31)
        self.assertEqual(set(functions), set(_lib.FUNCTIONS))
        for name, count in functions.items():
            with self.subTest(name):
                self.assertEqual(len(_lib.FUNCTIONS[name][1]), count)

    def test_declarations_are_set_on_the_loaded_library(self) -> None:
        lib = _lib.get()
        for name, (restype, argtypes) in _lib.FUNCTIONS.items():
            with self.subTest(name):
                function = getattr(lib, name)
                self.assertEqual(function.argtypes, argtypes)
                self.assertIs(function.restype, restype)

    def test_exported_symbols_are_the_declared_ones(self) -> None:
        nm = shutil.which("nm")
        if nm is None:
            self.skipTest("no nm")
        out = subprocess.run(
            [nm, "-D", "--defined-only", _lib.locate()], capture_output=True, text=True, check=True
        ).stdout
        exported = {line.split()[-1] for line in out.splitlines() if line.split()[-1].startswith("kms_")}
        self.assertEqual(exported, set(_lib.FUNCTIONS))

    def test_constants_match_the_header(self) -> None:
        defines = dict(re.findall(r"^#define (KMS_\w+) (\d+)$", self.header, re.M))
        self.assertGreaterEqual(len(defines), 13)
        for name, value in defines.items():
            with self.subTest(name):
                self.assertEqual(getattr(_lib, name), int(value))

    def test_status_enum_matches_the_header(self) -> None:
        values = {name: int(v) for name, v in re.findall(r"KMS_STATUS_(\w+) = (\d+)", self.header)}
        self.assertEqual(values, {s.name: s.value for s in Status})

    def test_struct_layout_matches_c(self) -> None:
        structs = {
            "kms_open_options": _lib.kms_open_options,
            "kms_error": _lib.kms_error,
            "kms_encrypt_response": _lib.kms_encrypt_response,
            "kms_decrypt_response": _lib.kms_decrypt_response,
            "kms_data_key_response": _lib.kms_data_key_response,
            "kms_create_key_options": _lib.kms_create_key_options,
        }
        lines = run_interop("layout").splitlines()
        self.assertEqual(len(lines), 6 + 6 + 5 + 9 + 7 + 10 + 6)  # 6 sizes, then each struct's fields
        for line in lines:
            name, *values = line.split()
            with self.subTest(name):
                if "." in name:
                    struct, field = name.split(".")
                    offset, size = map(int, values)
                    self.assertEqual(getattr(structs[struct], field).offset, offset)
                    self.assertEqual(getattr(structs[struct], field).size, size)
                else:
                    (size,) = map(int, values)
                    self.assertEqual(ctypes.sizeof(structs[name]), size)
        for struct in structs.values():  # every ctypes field was checked
            self.assertEqual(
                sum(1 for line in lines if line.startswith(struct.__name__ + ".")),
                len(struct._fields_),
            )

    def test_flags_are_c_int(self) -> None:
        # The C ABI has no bool (a C caller or binding may pass any int): both
        # flags are int in the header and c_int here, never c_bool.
        self.assertNotRegex(self.header, r"\bbool\s+\w+\s*[;,)]")
        self.assertRegex(self.header, r"\bint create_if_missing;")
        self.assertRegex(self.header, r"\bint enable_automatic_rotation,")
        self.assertIs(dict(_lib.kms_open_options._fields_)["create_if_missing"], ctypes.c_int)
        self.assertIs(_lib.FUNCTIONS["kms_update_rotation_policy"][1][2], ctypes.c_int)
        self.assertEqual(
            _lib.get().kms_update_rotation_policy.argtypes[2], ctypes.c_int
        )

    def test_status_table_matches_the_library(self) -> None:
        for status in Status:
            with self.subTest(status.name):
                code = localkms.status_code(status)
                http = localkms.status_http_status(status)
                if status is Status.OK:
                    self.assertEqual((code, http), ("OK", 200))
                    continue
                cls, table_code, table_http = STATUS_TABLE[status]
                self.assertEqual((code, http), (table_code, table_http))
                self.assertIs(error_class(status), cls)
        self.assertEqual(localkms.status_code(7), "Unknown")
        self.assertEqual(localkms.status_http_status(7), 0)
        self.assertEqual(localkms.status_code(2**32 - 1), "Unknown")

    def test_error_class_hierarchy(self) -> None:
        self.assertIs(error_class(199), localkms.BadRequestError)  # a number added later
        self.assertIs(error_class(250), localkms.NotFoundError)
        self.assertIs(error_class(399), localkms.KeyStateError)
        self.assertIs(error_class(403), localkms.KeyStoreError)
        self.assertIs(error_class(501), localkms.InternalError)
        self.assertIs(error_class(999), localkms.KmsError)
        groups = {1: localkms.BadRequestError, 2: localkms.NotFoundError, 3: localkms.KeyStateError,
                  4: localkms.KeyStoreError, 5: localkms.InternalError}  # fmt: skip
        for status, (cls, _, _) in STATUS_TABLE.items():
            self.assertTrue(issubclass(cls, groups[status // 100]), cls)
            self.assertTrue(issubclass(cls, localkms.KmsError))
        self.assertIs(error_class(500), localkms.InternalError)

    def test_version(self) -> None:
        self.assertRegex(localkms.version(), r"^\d+\.\d+\.\d+")
        self.assertEqual(localkms.Client.version(), localkms.version())
        self.assertEqual(_lib.get().kms_version().decode(), localkms.version())

    def _discover(self, **env: str) -> str:
        """What a fresh interpreter with `env` (over this one's) makes of
        localkms.version(): the version, or "LNF <message>"."""
        code = (
            "import localkms\n"
            "try:\n    print(localkms.version(), localkms._lib.locate())\n"
            "except localkms.LibraryNotFoundError as e:\n    print('LNF', e)\n"
        )
        full = {k: v for k, v in os.environ.items() if k != "LOCALKMS_LIBRARY"}
        full.update(env)
        out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def test_library_found_through_the_environment_first(self) -> None:
        libdir = _lib.pkg_config_libdir()
        self.assertIsNotNone(libdir, "run-tests.sh puts the prefix on PKG_CONFIG_PATH")
        copy = Path(tempfile.mkdtemp(prefix="localkms-lib-")) / "liblocalkms.so.0"
        self.addCleanup(shutil.rmtree, copy.parent, ignore_errors=True)
        shutil.copy(Path(str(libdir)) / "liblocalkms.so.0", copy)
        self.assertEqual(self._discover(LOCALKMS_LIBRARY=str(copy)), f"{localkms.version()} {copy}")
        out = self._discover(LOCALKMS_LIBRARY="/nonexistent/liblocalkms.so.0")
        self.assertTrue(out.startswith("LNF LOCALKMS_LIBRARY"), out)
        self.assertIn("/nonexistent/liblocalkms.so.0", out)

    def test_library_found_through_pkg_config_then_the_loader(self) -> None:
        libdir = _lib.pkg_config_libdir()
        self.assertIsNotNone(libdir, "run-tests.sh puts the prefix on PKG_CONFIG_PATH")
        installed = os.path.join(str(libdir), "liblocalkms.so.0")
        self.assertEqual(self._discover(LD_LIBRARY_PATH=""), f"{localkms.version()} {installed}")
        # No pkg-config entry: the loader finds the SONAME through LD_LIBRARY_PATH.
        self.assertEqual(self._discover(PKG_CONFIG_PATH="/nonexistent", PKG_CONFIG_LIBDIR="/nonexistent",
                                        LD_LIBRARY_PATH=str(libdir)),
                         f"{localkms.version()} liblocalkms.so.0")  # fmt: skip
        # None of the three: one error that names them all (unless this machine
        # has the library installed system-wide, where the loader finds it).
        out = self._discover(PKG_CONFIG_PATH="/nonexistent", PKG_CONFIG_LIBDIR="/nonexistent",
                             LD_LIBRARY_PATH="")  # fmt: skip
        system = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        if "liblocalkms.so.0" in system:
            self.assertEqual(out, f"{localkms.version()} liblocalkms.so.0")
            return
        self.assertTrue(out.startswith("LNF "), out)
        for step in ("LOCALKMS_LIBRARY", "pkg-config --variable=libdir localkms", "LD_LIBRARY_PATH"):
            self.assertIn(step, out)

    def test_package_version_is_the_library_version(self) -> None:
        import importlib.metadata

        self.assertEqual(importlib.metadata.version("localkms"), localkms.version())


# --- the client's life ---------------------------------------------------------------------
class TestLifecycle(TempDirTestCase):
    def test_context_manager_and_idempotent_close(self) -> None:
        with localkms.Client.in_memory() as kms:
            self.assertFalse(kms.closed)
            key_id = kms.create_key()
            self.assertRegex(key_id, KEY_ID)
        self.assertTrue(kms.closed)
        kms.close()
        kms.close()
        with self.assertRaises(ValueError):
            kms.create_key()
        with self.assertRaises(ValueError):
            kms.advance_encrypt(key_id, b"x")
        with self.assertRaises(ValueError):
            with kms:
                pass
        self.assertIn("closed", repr(kms))

    def test_constructor_is_not_public(self) -> None:
        with self.assertRaises(TypeError):
            localkms.Client()

    def test_unclosed_client_is_freed_by_the_garbage_collector(self) -> None:
        for _ in range(20):
            kms = localkms.Client.in_memory()
            kms.set_clock(lambda: JAN_1_2026)
            kms.create_key()
            del kms
            gc.collect()

    def test_close_waits_for_running_calls(self) -> None:
        kms = localkms.Client.in_memory()
        key_id = kms.create_key()
        stop = threading.Event()
        errors: list[BaseException] = []

        def work() -> None:
            while not stop.is_set():
                try:
                    kms.advance_decrypt(kms.advance_encrypt(key_id, b"x" * 1000).ciphertext_blob)
                except ValueError:
                    return  # closed: the only acceptable failure
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        kms.close()
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_file_store_persists_across_clients(self) -> None:
        store = self.tmp / "keys.kms"
        master_key = os.urandom(32)
        with localkms.Client.open(store, master_key=master_key, create_if_missing=True) as kms:
            key_id = kms.create_key(description="persisted")
            kms.create_alias("alias/persisted", key_id)
            blob = kms.advance_encrypt("alias/persisted", b"kept").ciphertext_blob
        self.assertEqual(stat.S_IMODE(store.stat().st_mode), 0o600)
        # An SQLite database, with no lock file beside it; its -wal and -shm, where
        # they are left, are mode 0600 too.
        self.assertEqual(store.read_bytes()[:16], b"SQLite format 3\0")
        self.assertFalse(os.path.lexists(f"{store}.lock"))
        for suffix in ("-wal", "-shm"):
            side = Path(f"{store}{suffix}")
            if os.path.lexists(side):
                self.assertTrue(side.is_file() and not side.is_symlink(), side)
                self.assertEqual(stat.S_IMODE(side.stat().st_mode), 0o600, side)
        with localkms.Client.open(path=str(store), master_key=bytearray(master_key)) as kms:
            self.assertEqual(bytes(kms.advance_decrypt(blob).plaintext), b"kept")
            meta = kms.describe_key("alias/persisted")["KeyMetadata"]
            self.assertEqual((meta["KeyId"], meta["Description"]), (key_id, "persisted"))

    def test_master_key_file(self) -> None:
        store, key_file = self.tmp / "keys.kms", self.tmp / "master.key"
        write_master_key_file(key_file)
        with localkms.Client.open(path=store, master_key_file=key_file, create_if_missing=True) as kms:
            key_id = kms.create_key()
        with localkms.Client.open(path=store, master_key_file=str(key_file)) as kms:
            self.assertEqual(kms.list_keys()["Keys"]["Key"][0]["KeyId"], key_id)

    def test_open_argument_errors(self) -> None:
        store = self.tmp / "keys.kms"
        with self.assertRaises(localkms.InvalidParameterError):
            localkms.Client.open(store, master_key=b"short", create_if_missing=True)
        with self.assertRaises(localkms.MissingParameterError):
            localkms.Client.open(store, create_if_missing=True)
        with self.assertRaises(localkms.InvalidParameterError):
            localkms.Client.open(None, master_key=os.urandom(32))  # in memory, with a key
        self.assertFalse(store.exists())

    def test_path_and_keystore_url_together(self) -> None:
        # keystore_url reaches kms_open_options.keystore_url; the library refuses
        # these before connecting, so no PostgreSQL server is needed.
        store = self.tmp / "keys.kms"
        url = "postgresql://localkms@%2Fnonexistent%2Fsocket/localkms"
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            localkms.Client.open(store, keystore_url=url, master_key=os.urandom(32), create_if_missing=True)
        error = caught.exception
        self.assertIsInstance(error, localkms.BadRequestError)
        self.assertEqual((error.status, error.code, error.http_status),
                         (Status.INVALID_PARAMETER, "InvalidParameter", 400))  # fmt: skip
        self.assertIn("keystore_url", error.message)
        self.assertRegex(error.request_id, UUID4)
        self.assertFalse(store.exists())
        # A URL without a master key is a store without one (an in-memory store,
        # had the field been lost, would open).
        with self.assertRaises(localkms.MissingParameterError):
            localkms.Client.open(keystore_url=url)
        with self.assertRaises(localkms.InvalidParameterError) as caught:  # refused by the binding
            localkms.Client.open(keystore_url=url + "\0", master_key=os.urandom(32))
        self.assertIn("KeystoreUrl", caught.exception.message)
        self.assertIsNone(caught.exception.request_id)
        with self.assertRaises(TypeError):
            localkms.Client.open(keystore_url=42)  # type: ignore[arg-type]


class TestFlags(TempDirTestCase):
    """The C ABI's two int flags (kms_open_options.create_if_missing and
    kms_update_rotation_policy's enable_automatic_rotation) with both values, on
    a file-backed store reopened after every change: a flag read wrongly, or a
    raw flag value persisted, shows up as the wrong policy, a store that is not
    created, or one that no longer opens (KeyStore.Corrupted)."""

    def setUp(self) -> None:
        super().setUp()
        self.store = self.tmp / "flags.kms"
        self.master_key = os.urandom(32)

    def open(self, create_if_missing: bool) -> localkms.Client:
        return localkms.Client.open(
            self.store, master_key=self.master_key, create_if_missing=create_if_missing
        )

    def test_create_if_missing_both_values(self) -> None:
        with self.assertRaises(localkms.KeyStoreIOError) as caught:
            self.open(False)
        self.assertEqual(caught.exception.status, Status.KEYSTORE_IO)
        self.assertEqual(caught.exception.code, "KeyStore.IOError")
        self.assertFalse(self.store.exists())
        with self.open(True) as kms:
            key_id = kms.create_key()
        self.assertTrue(self.store.is_file())
        for create in (False, True):  # an existing store opens as it is either way
            with self.subTest(create_if_missing=create), self.open(create) as kms:
                self.assertEqual([k["KeyId"] for k in kms.list_keys()["Keys"]["Key"]], [key_id])

    def test_rotation_flag_both_values_persist(self) -> None:
        def meta(kms: localkms.Client) -> dict:
            return kms.describe_key(key_id)["KeyMetadata"]

        with self.open(True) as kms:
            key_id = kms.create_key(description="flags")
            self.assertEqual(meta(kms)["AutomaticRotation"], "Disabled")
            kms.update_rotation_policy(key_id, True, "30d")
            m = meta(kms)
            self.assertEqual((m["AutomaticRotation"], m["RotationInterval"]), ("Enabled", f"{30 * DAY}s"))
            self.assertIn("NextRotationDate", m)
        with self.open(False) as kms:  # reopened: persisted, and the store opens
            m = meta(kms)
            self.assertEqual((m["AutomaticRotation"], m["RotationInterval"]), ("Enabled", f"{30 * DAY}s"))
            self.assertEqual(m["Description"], "flags")
            kms.update_rotation_policy(key_id, False)
            m = meta(kms)
            self.assertEqual(m["AutomaticRotation"], "Disabled")
            self.assertNotIn("NextRotationDate", m)
        with self.open(False) as kms:
            self.assertEqual(meta(kms)["AutomaticRotation"], "Disabled")
            kms.update_rotation_policy(key_id, True)  # no interval: the persisted 30 days
        with self.open(False) as kms:
            m = meta(kms)
            self.assertEqual((m["AutomaticRotation"], m["RotationInterval"]), ("Enabled", f"{30 * DAY}s"))


# --- encryption ------------------------------------------------------------------------------
MODES = [
    ("AES_GCM", None, None),
    ("AES_GCM", None, b"tenant=42"),
    ("AES_CBC", "PKCS7_PADDING", None),
    ("AES_CBC", "NO_PADDING", None),
    ("AES_ECB", "PKCS7_PADDING", None),
    ("AES_ECB", "NO_PADDING", None),
]


class TestRoundTrip(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)
        self.key_id = self.kms.create_key(algorithms=ALL_AES)

    def lengths(self, padding: str | None) -> list[int]:
        return [16, 48] if padding == "NO_PADDING" else [0, 1, 15, 16, 33, 1000]

    def test_advance_round_trip_every_algorithm_and_padding(self) -> None:
        for algorithm, padding, aad in MODES:
            for n in self.lengths(padding):
                with self.subTest(algorithm=algorithm, padding=padding, aad=aad, n=n):
                    plaintext = os.urandom(n)
                    sealed = self.kms.advance_encrypt(
                        self.key_id, plaintext, algorithm=algorithm, aad=aad, padding_mode=padding
                    )
                    self.assertIsInstance(sealed, localkms.EncryptResult)
                    self.assertEqual(sealed.key_id, self.key_id)
                    self.assertEqual(sealed.algorithm, algorithm)
                    expected_padding = "" if algorithm == "AES_GCM" else padding
                    self.assertEqual(sealed.padding_mode, expected_padding)
                    self.assertEqual(len(sealed.iv), IV_LEN[algorithm])
                    self.assertRegex(sealed.request_id, UUID4)
                    blob = sealed.ciphertext_blob
                    # The blob's layout (docs/c-api.md, section 3).
                    self.assertEqual(blob[0:1], b"$")
                    self.assertEqual(blob[1], 1 if padding == "PKCS7_PADDING" else 0)
                    self.assertEqual(blob[2], ALGORITHM_BYTE[algorithm])
                    self.assertEqual(blob[3:39].decode(), sealed.key_version_id)
                    self.assertEqual(blob[39 : 39 + len(sealed.iv)], sealed.iv)
                    opened = self.kms.advance_decrypt(blob, aad=aad)
                    self.assertIsInstance(opened.plaintext, bytearray)
                    self.assertEqual(opened.plaintext, plaintext)
                    self.assertEqual(opened.key_version_id, sealed.key_version_id)
                    self.assertEqual(opened.algorithm, algorithm)
                    self.assertEqual(opened.padding_mode, expected_padding)
                    # Pinning the algorithm the blob was made with is fine.
                    again = self.kms.advance_decrypt(blob, aad=aad, algorithm=algorithm)
                    self.assertEqual(again.plaintext, plaintext)

    def test_plain_round_trip_every_algorithm_and_padding(self) -> None:
        for algorithm, padding, aad in MODES:
            for n in self.lengths(padding):
                with self.subTest(algorithm=algorithm, padding=padding, aad=aad, n=n):
                    plaintext = os.urandom(n)
                    sealed = self.kms.encrypt(
                        self.key_id, plaintext, algorithm=algorithm, aad=aad, padding_mode=padding
                    )
                    # The bare ciphertext: no header, no IV.
                    if algorithm == "AES_GCM":
                        expected_len = n + _lib.KMS_GCM_TAG_LEN
                    elif padding == "NO_PADDING":
                        expected_len = n
                    else:
                        expected_len = (n // 16 + 1) * 16
                    self.assertEqual(len(sealed.ciphertext_blob), expected_len)
                    iv = sealed.iv or None
                    opened = self.kms.decrypt(
                        sealed.ciphertext_blob, self.key_id, algorithm=algorithm, iv=iv,
                        aad=aad, padding_mode=padding,
                    )  # fmt: skip
                    self.assertEqual(opened.plaintext, plaintext)
                    # AdvanceDecrypt with a KeyId opens Encrypt output too.
                    opened = self.kms.advance_decrypt(
                        sealed.ciphertext_blob, key_id=self.key_id, algorithm=algorithm, iv=iv,
                        aad=aad, padding_mode=padding,
                    )  # fmt: skip
                    self.assertEqual(opened.plaintext, plaintext)
                    self.assertEqual(opened.key_version_id, sealed.key_version_id)

    def test_key_sizes(self) -> None:
        for spec in ("Aliyun_AES_128", "Aliyun_AES_192", "Aliyun_AES_256"):
            with self.subTest(spec):
                key_id = self.kms.create_key(key_spec=spec, algorithms=ALL_AES)
                self.assertEqual(self.kms.describe_key(key_id)["KeyMetadata"]["KeySpec"], spec)
                for algorithm, padding, aad in MODES:
                    sealed = self.kms.advance_encrypt(
                        key_id, b"0123456789abcdef", algorithm=algorithm, padding_mode=padding, aad=aad
                    )
                    opened = self.kms.advance_decrypt(sealed.ciphertext_blob, aad=aad)
                    self.assertEqual(opened.plaintext, b"0123456789abcdef")

    def test_given_iv_is_used(self) -> None:
        gcm = self.kms.advance_encrypt(self.key_id, b"x", iv=bytes(range(12)))
        self.assertEqual(gcm.iv, bytes(range(12)))
        cbc = self.kms.advance_encrypt(self.key_id, b"x", algorithm="AES_CBC", iv=bytearray(16))
        self.assertEqual(cbc.iv, bytes(16))
        ecb = self.kms.advance_encrypt(self.key_id, b"x", algorithm="AES_ECB")
        self.assertEqual(ecb.iv, b"")

    def test_random_ivs_differ(self) -> None:
        ivs = {self.kms.advance_encrypt(self.key_id, b"x").iv for _ in range(50)}
        self.assertEqual(len(ivs), 50)

    def test_bytes_like_inputs_and_caller_buffers_untouched(self) -> None:
        data = bytearray(b"caller's own buffer")
        sealed = self.kms.advance_encrypt(self.key_id, data, aad=memoryview(b"ctx"))
        self.assertEqual(data, b"caller's own buffer")  # only our copy is wiped
        self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob, aad=b"ctx").plaintext, data)
        words = array.array("I", [1, 2, 3, 4])
        sealed = self.kms.advance_encrypt(self.key_id, words)
        self.assertEqual(self.kms.advance_decrypt(memoryview(sealed.ciphertext_blob)).plaintext,
                         words.tobytes())  # fmt: skip
        strided = memoryview(b"abcdefgh")[::2]  # not contiguous
        sealed = self.kms.advance_encrypt(self.key_id, strided)
        self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob).plaintext, b"aceg")
        empty = self.kms.advance_encrypt(self.key_id, None)
        self.assertEqual(self.kms.advance_decrypt(empty.ciphertext_blob).plaintext, bytearray())
        with self.assertRaises(TypeError):
            self.kms.advance_encrypt(self.key_id, "text is not bytes")
        with self.assertRaises(TypeError):
            self.kms.advance_encrypt(self.key_id, 42)
        with self.assertRaises(TypeError):
            self.kms.advance_encrypt(42, b"x")

    def test_plaintext_is_wipeable_and_not_in_repr(self) -> None:
        sealed = self.kms.advance_encrypt(self.key_id, b"top secret")
        opened = self.kms.advance_decrypt(sealed.ciphertext_blob)
        self.assertNotIn("top secret", repr(opened))
        self.assertEqual(opened.plaintext, b"top secret")
        opened.wipe()
        self.assertEqual(opened.plaintext, bytes(10))
        with self.assertRaises(Exception):
            opened.key_id = "other"  # frozen

    def test_wrong_or_missing_aad_fails(self) -> None:
        blob = self.kms.advance_encrypt(self.key_id, b"x", aad=b"right").ciphertext_blob
        for aad in (b"wrong", None):
            with self.subTest(aad=aad), self.assertRaises(localkms.InvalidCiphertextError):
                self.kms.advance_decrypt(blob, aad=aad)

    def test_pinning_another_algorithm_fails(self) -> None:
        blob = self.kms.advance_encrypt(self.key_id, b"x", algorithm="AES_CBC").ciphertext_blob
        with self.assertRaises(localkms.InvalidCiphertextError):
            self.kms.advance_decrypt(blob, algorithm="AES_GCM")


# --- rotation -----------------------------------------------------------------------------------
class TestRotation(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)
        self.key_id = self.kms.create_key()

    def test_manual_rotation(self) -> None:
        old = self.kms.advance_encrypt(self.key_id, b"before")
        new_version = self.kms.rotate_key(self.key_id)
        self.assertTrue(new_version.startswith(self.key_id + "-"))
        self.assertEqual(len(new_version), _lib.KMS_KEY_VERSION_ID_LEN)
        self.assertNotEqual(new_version, old.key_version_id)
        new = self.kms.advance_encrypt(self.key_id, b"after")
        self.assertEqual(new.key_version_id, new_version)
        opened_old = self.kms.advance_decrypt(old.ciphertext_blob)
        self.assertEqual((opened_old.plaintext, opened_old.key_version_id), (b"before", old.key_version_id))
        opened_new = self.kms.advance_decrypt(new.ciphertext_blob)
        self.assertEqual((opened_new.plaintext, opened_new.key_version_id), (b"after", new_version))
        versions = self.kms.list_key_versions(self.key_id)
        ids = [v["KeyVersionId"] for v in versions["KeyVersions"]["KeyVersion"]]
        self.assertEqual(ids, [old.key_version_id, new_version])
        self.assertEqual(versions["TotalCount"], 2)
        meta = self.kms.describe_key(self.key_id)["KeyMetadata"]
        self.assertEqual(meta["PrimaryKeyVersion"], new_version)

    def test_automatic_rotation_with_a_clock(self) -> None:
        # The one smoke test of automatic rotation here: the Python clock's days
        # reach the library. The schedule itself: tests/service_behaviour.rs.
        now = [JAN_1_2026]
        self.kms.set_clock(lambda: now[0])
        key_id = self.kms.create_key(description="rotated every 7 days")
        self.kms.update_rotation_policy(key_id, True, "7d")
        meta = self.kms.describe_key(key_id)["KeyMetadata"]
        self.assertEqual((meta["AutomaticRotation"], meta["RotationInterval"]), ("Enabled", "604800s"))
        self.assertEqual(meta["NextRotationDate"], "2026-01-08T00:00:00Z")
        day0 = self.kms.advance_encrypt(key_id, b"day 0")
        now[0] = JAN_1_2026 + 7 * DAY + 1
        day7 = self.kms.advance_encrypt(key_id, b"day 7")
        self.assertNotEqual(day7.key_version_id, day0.key_version_id)
        self.kms.set_clock(None)

    def test_rotation_policy_arguments(self) -> None:
        self.kms.update_rotation_policy(self.key_id, True, datetime.timedelta(days=30))
        meta = self.kms.describe_key(self.key_id)["KeyMetadata"]
        self.assertEqual(meta["RotationInterval"], f"{30 * DAY}s")
        self.kms.update_rotation_policy(self.key_id, False)
        self.assertEqual(self.kms.describe_key(self.key_id)["KeyMetadata"]["AutomaticRotation"], "Disabled")
        self.kms.update_rotation_policy(self.key_id, True)  # keeps the 30 days
        self.assertEqual(self.kms.describe_key(self.key_id)["KeyMetadata"]["RotationInterval"], f"{30 * DAY}s")
        for bad in ("1d", "6d", "366d", "7x", "d", "-7d"):
            with self.subTest(bad):
                with self.assertRaises((localkms.InvalidParameterError, localkms.MissingParameterError)):
                    self.kms.update_rotation_policy(self.key_id, True, bad)


# --- the clock --------------------------------------------------------------------------------
class TestClock(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)

    def creation_date(self) -> str:
        return self.kms.describe_key(self.kms.create_key())["KeyMetadata"]["CreationDate"]

    def test_callback_is_kept_alive_by_the_client(self) -> None:
        self.kms.set_clock(lambda: JAN_1_2026 + 0.9)  # a float is truncated to seconds
        gc.collect()
        self.assertEqual(self.creation_date(), "2026-01-01T00:00:00Z")

    def test_replacing_and_restoring_the_clock(self) -> None:
        self.kms.set_clock(lambda: JAN_1_2026)
        self.assertEqual(self.creation_date(), "2026-01-01T00:00:00Z")
        self.kms.set_clock(lambda: JAN_1_2026 + DAY)
        gc.collect()
        self.assertEqual(self.creation_date(), "2026-01-02T00:00:00Z")
        self.kms.set_clock(None)
        year = datetime.datetime.now(datetime.timezone.utc).year
        self.assertTrue(self.creation_date().startswith(str(year)[:3]))

    def test_failing_clock_falls_back_to_the_system_clock(self) -> None:
        self.kms.set_clock(lambda: 1 / 0)
        with self.assertLogs("localkms", level="ERROR") as logs:
            date = self.creation_date()
        self.assertIn("ZeroDivisionError", "\n".join(logs.output))
        parsed = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        self.assertLess(abs(parsed.timestamp() - time.time()), 120)

    def test_not_callable(self) -> None:
        with self.assertRaises(TypeError):
            self.kms.set_clock(42)


# --- data keys ------------------------------------------------------------------------------------
class TestDataKeys(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)
        self.key_id = self.kms.create_key()

    def test_advance_data_key(self) -> None:
        data_key = self.kms.advance_generate_data_key(self.key_id, aad=b"file-1")
        self.assertIsInstance(data_key.plaintext, bytearray)
        self.assertEqual(len(data_key.plaintext), 32)
        self.assertEqual(data_key.algorithm, "AES_GCM")
        self.assertEqual(len(data_key.iv), 12)
        self.assertNotIn(data_key.plaintext.hex(), repr(data_key))
        opened = self.kms.advance_decrypt(data_key.ciphertext_blob, aad=b"file-1")
        self.assertEqual(opened.plaintext, data_key.plaintext)
        self.assertEqual(opened.key_version_id, data_key.key_version_id)
        data_key.wipe()
        self.assertEqual(data_key.plaintext, bytes(32))

    def test_plain_data_key(self) -> None:
        data_key = self.kms.generate_data_key(self.key_id, number_of_bytes=16)
        self.assertEqual(len(data_key.plaintext), 16)
        opened = self.kms.decrypt(data_key.ciphertext_blob, self.key_id, algorithm="AES_GCM", iv=data_key.iv)
        self.assertEqual(opened.plaintext, data_key.plaintext)

    def test_sizes(self) -> None:
        self.assertEqual(len(self.kms.advance_generate_data_key(self.key_id, number_of_bytes=0).plaintext), 32)
        self.assertEqual(len(self.kms.advance_generate_data_key(self.key_id, number_of_bytes=1).plaintext), 1)
        self.assertEqual(len(self.kms.generate_data_key(self.key_id, number_of_bytes=1024).plaintext), 1024)
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            self.kms.advance_generate_data_key(self.key_id, number_of_bytes=1025)
        self.assertRegex(caught.exception.request_id, UUID4)  # the library's answer
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            self.kms.advance_generate_data_key(self.key_id, number_of_bytes=-1)
        self.assertIsNone(caught.exception.request_id)  # refused before the call
        self.assertEqual(caught.exception.code, "InvalidParameter")
        self.assertEqual(caught.exception.http_status, 400)

    def test_data_keys_differ(self) -> None:
        keys = {bytes(self.kms.advance_generate_data_key(self.key_id).plaintext) for _ in range(20)}
        self.assertEqual(len(keys), 20)


# --- aliases and keys ------------------------------------------------------------------------------
class TestAliasesAndKeys(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)

    def test_aliases(self) -> None:
        a, b = self.kms.create_key(), self.kms.create_key()
        self.kms.create_alias("alias/app", a)
        self.kms.create_alias("alias/app-2", "alias/app")  # an alias may name the key
        sealed = self.kms.advance_encrypt("alias/app", b"via alias")
        self.assertEqual(sealed.key_id, a)
        aliases = self.kms.list_aliases()["Aliases"]["Alias"]
        self.assertEqual([(x["AliasName"], x["KeyId"]) for x in aliases], [("alias/app", a), ("alias/app-2", a)])
        self.kms.update_alias("alias/app", b)
        self.assertEqual(self.kms.advance_encrypt("alias/app", b"x").key_id, b)
        self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob).plaintext, b"via alias")
        self.assertEqual(self.kms.describe_key("alias/app")["KeyMetadata"]["KeyId"], b)
        self.kms.delete_alias("alias/app")
        with self.assertRaises(localkms.AliasNotFoundError):
            self.kms.advance_encrypt("alias/app", b"x")
        with self.assertRaises(localkms.AliasNotFoundError):
            self.kms.delete_alias("alias/app")
        with self.assertRaises(localkms.AliasNotFoundError):
            self.kms.update_alias("alias/app", a)
        with self.assertRaises(localkms.AliasAlreadyExistsError) as caught:
            self.kms.create_alias("alias/app-2", b)
        self.assertEqual(caught.exception.code, "AliasAlreadyExists")
        for bad in ("app", "alias/", "alias/acs-x", "alias/sp ace"):
            with self.subTest(bad), self.assertRaises(localkms.InvalidParameterError):
                self.kms.create_alias(bad, a)

    def test_list_keys_and_describe(self) -> None:
        now = [JAN_1_2026]
        self.kms.set_clock(lambda: now[0])
        ids = []
        for i in range(3):
            ids.append(self.kms.create_key(description=f"key {i}"))
            now[0] += 60
        listed = self.kms.list_keys()
        self.assertEqual([k["KeyId"] for k in listed["Keys"]["Key"]], ids)
        self.assertEqual(listed["TotalCount"], 3)
        self.assertRegex(listed["RequestId"], UUID4)
        meta = self.kms.describe_key(ids[1])["KeyMetadata"]
        self.assertEqual(meta["Description"], "key 1")
        self.assertEqual(meta["KeyState"], "Enabled")
        self.assertEqual(meta["Origin"], "Aliyun_KMS")
        unicode = self.kms.create_key(description="schlüssel 🔑")
        self.assertEqual(self.kms.describe_key(unicode)["KeyMetadata"]["Description"], "schlüssel 🔑")

    def test_key_states(self) -> None:
        key_id = self.kms.create_key()
        blob = self.kms.advance_encrypt(key_id, b"x").ciphertext_blob
        self.kms.disable_key(key_id)
        self.assertEqual(self.kms.describe_key(key_id)["KeyMetadata"]["KeyState"], "Disabled")
        with self.assertRaises(localkms.KeyDisabledError):
            self.kms.advance_decrypt(blob)
        self.kms.enable_key(key_id)
        self.assertEqual(self.kms.advance_decrypt(blob).plaintext, b"x")
        self.kms.schedule_key_deletion(key_id, 7)
        meta = self.kms.describe_key(key_id)["KeyMetadata"]
        self.assertEqual(meta["KeyState"], "PendingDeletion")
        self.assertIn("DeleteDate", meta)
        self.kms.cancel_key_deletion(key_id)
        self.assertEqual(self.kms.advance_decrypt(blob).plaintext, b"x")

    def test_external_key_material(self) -> None:
        key_id = self.kms.create_key(origin="EXTERNAL", key_spec="Aliyun_AES_128")
        self.assertEqual(self.kms.describe_key(key_id)["KeyMetadata"]["KeyState"], "PendingImport")
        material = bytearray(os.urandom(16))
        saved = bytes(material)
        with self.assertRaises(localkms.InvalidKeyMaterialError):
            self.kms.import_key_material(key_id, os.urandom(32))
        self.kms.import_key_material(key_id, material)
        self.assertEqual(material, saved)  # only the binding's own copy is wiped
        sealed = self.kms.advance_encrypt(key_id, b"imported")
        self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob).plaintext, b"imported")
        with self.assertRaises(localkms.InvalidKeyMaterialError):
            self.kms.import_key_material(key_id, os.urandom(16))  # other material
        self.kms.import_key_material(key_id, bytes(material))  # the same again is fine
        with self.assertRaises(localkms.UnsupportedOperationError):
            self.kms.rotate_key(key_id)

    def test_expire_unix_reaches_the_library(self) -> None:
        # expire_unix is an int64 through ctypes; what expiry then does is
        # tests/service_behaviour.rs (external_keys_import_expiry_and_reimport).
        self.kms.set_clock(lambda: JAN_1_2026)
        key_id = self.kms.create_key(origin="EXTERNAL")
        material = os.urandom(32)
        with self.assertRaises(localkms.InvalidParameterError):
            self.kms.import_key_material(key_id, material, expire_unix=JAN_1_2026 - 1)  # in the past
        self.kms.import_key_material(key_id, material, expire_unix=JAN_1_2026 + DAY)
        meta = self.kms.describe_key(key_id)["KeyMetadata"]
        self.assertEqual(meta["MaterialExpireTime"], "2026-01-02T00:00:00Z")


# --- errors ----------------------------------------------------------------------------------------
class TestErrors(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.kms = in_memory(self)
        # Every algorithm, so that the block-mode cases reach the checks they are
        # about (a default key refuses AES_CBC / AES_ECB outright).
        self.key_id = self.kms.create_key(algorithms=ALL_AES)

    def check(self, caught: localkms.KmsError, cls: type, status: Status, code: str, http: int) -> None:
        self.assertIs(type(caught), cls)
        self.assertIsInstance(caught, localkms.KmsError)
        self.assertEqual(caught.status, status)
        self.assertIsInstance(caught.status, Status)
        self.assertEqual(caught.code, code)
        self.assertEqual(caught.http_status, http)
        self.assertTrue(caught.message)
        self.assertRegex(caught.request_id, UUID4)
        self.assertIn(code, str(caught))
        self.assertIn(caught.request_id, str(caught))

    def test_invalid_parameter(self) -> None:
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            self.kms.advance_encrypt(self.key_id, b"x", iv=b"short")
        self.check(caught.exception, localkms.InvalidParameterError, Status.INVALID_PARAMETER, "InvalidParameter", 400)
        self.assertIn("Iv", caught.exception.message)
        for kwargs in (
            dict(algorithm="AES_XTS"),
            dict(algorithm="AES_CBC", padding_mode="ZERO_PADDING"),
            dict(algorithm="AES_CBC", padding_mode="NO_PADDING"),  # 1 byte is no block
            dict(algorithm="AES_CBC", aad=b"only for GCM"),
            dict(aad=bytes(8193)),
        ):
            with self.subTest(**{k: str(v)[:20] for k, v in kwargs.items()}):
                with self.assertRaises(localkms.InvalidParameterError):
                    self.kms.advance_encrypt(self.key_id, b"x", **kwargs)
        self.kms.advance_encrypt(self.key_id, b"x", aad=bytes(8192))
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            self.kms.advance_encrypt("key-abc\0def", b"x")  # refused before the call
        self.assertIsNone(caught.exception.request_id)

    def test_missing_parameter(self) -> None:
        with self.assertRaises(localkms.MissingParameterError) as caught:
            self.kms.advance_encrypt(None, b"x")
        self.check(caught.exception, localkms.MissingParameterError, Status.MISSING_PARAMETER, "MissingParameter", 400)
        with self.assertRaises(localkms.MissingParameterError):
            self.kms.decrypt(b"\0" * 32, None, iv=bytes(12))
        with self.assertRaises(localkms.MissingParameterError):
            self.kms.create_alias(None, self.key_id)

    def test_key_not_found(self) -> None:
        missing = "key-" + "a" * 21
        with self.assertRaises(localkms.KeyNotFoundError) as caught:
            self.kms.advance_encrypt(missing, b"x")
        self.check(caught.exception, localkms.KeyNotFoundError, Status.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404)
        self.assertIn(missing, caught.exception.message)
        self.assertIsInstance(caught.exception, localkms.NotFoundError)
        # A blob from another store names a version this one does not hold.
        with localkms.Client.in_memory() as other:
            foreign = other.advance_encrypt(other.create_key(), b"x").ciphertext_blob
        with self.assertRaises(localkms.KeyNotFoundError):
            self.kms.advance_decrypt(foreign)

    def test_alias_not_found(self) -> None:
        with self.assertRaises(localkms.AliasNotFoundError) as caught:
            self.kms.advance_encrypt("alias/nothing", b"x")
        self.check(caught.exception, localkms.AliasNotFoundError, Status.ALIAS_NOT_FOUND, "Forbidden.AliasNotFound", 404)

    def test_only_symmetric_key_supported(self) -> None:
        ec = self.kms.create_key(key_spec="EC_P256")
        self.assertEqual(self.kms.describe_key(ec)["KeyMetadata"]["KeyUsage"], "SIGN/VERIFY")
        with self.assertRaises(localkms.OnlySymmetricKeySupportedError) as caught:
            self.kms.advance_encrypt(ec, b"x")
        self.check(caught.exception, localkms.OnlySymmetricKeySupportedError,
                   Status.ONLY_SYMMETRIC_KEY_SUPPORTED, "Forbidden.OnlySymmetricKeySupported", 404)  # fmt: skip
        self.assertEqual(
            caught.exception.message,
            f"The key {ec} is not a symmetric key. The API only supports symmetric keys.",
        )
        with self.assertRaises(localkms.OnlySymmetricKeySupportedError):
            self.kms.generate_data_key(ec)

    def test_disabled(self) -> None:
        self.kms.disable_key(self.key_id)
        with self.assertRaises(localkms.KeyDisabledError) as caught:
            self.kms.advance_encrypt(self.key_id, b"x")
        self.check(caught.exception, localkms.KeyDisabledError, Status.KEY_DISABLED, "Rejected.Disabled", 409)
        self.assertIsInstance(caught.exception, localkms.KeyStateError)

    def test_pending_deletion(self) -> None:
        with self.assertRaises(localkms.InvalidParameterError):
            self.kms.schedule_key_deletion(self.key_id, 6)
        with self.assertRaises(localkms.InvalidParameterError):
            self.kms.schedule_key_deletion(self.key_id, 2**40)  # outside int32: refused here
        self.kms.schedule_key_deletion(self.key_id, 30)
        with self.assertRaises(localkms.KeyPendingDeletionError) as caught:
            self.kms.advance_encrypt(self.key_id, b"x")
        self.check(caught.exception, localkms.KeyPendingDeletionError, Status.KEY_PENDING_DELETION,
                   "Rejected.PendingDeletion", 409)  # fmt: skip

    def test_pending_import(self) -> None:
        external = self.kms.create_key(origin="EXTERNAL")
        with self.assertRaises(localkms.KeyPendingImportError) as caught:
            self.kms.advance_encrypt(external, b"x")
        self.check(caught.exception, localkms.KeyPendingImportError, Status.KEY_PENDING_IMPORT,
                   "Rejected.PendingImport", 409)  # fmt: skip

    def test_invalid_ciphertext(self) -> None:
        sealed = self.kms.advance_encrypt(self.key_id, b"some plaintext")
        blob = bytearray(sealed.ciphertext_blob)
        blob[-1] ^= 1
        with self.assertRaises(localkms.InvalidCiphertextError) as caught:
            self.kms.advance_decrypt(blob)
        self.check(caught.exception, localkms.InvalidCiphertextError, Status.INVALID_CIPHERTEXT, "InvalidCiphertext", 400)
        for bad in (sealed.ciphertext_blob[:-1], sealed.ciphertext_blob + b"\0", b"$", b"not a blob at all"):
            with self.subTest(bad=bad[:8]), self.assertRaises(localkms.InvalidCiphertextError):
                self.kms.advance_decrypt(bad)
        cbc = bytearray(self.kms.advance_encrypt(self.key_id, b"x", algorithm="AES_CBC").ciphertext_blob)
        cbc[-1] ^= 0x80  # the padding no longer checks
        with self.assertRaises(localkms.InvalidCiphertextError):
            self.kms.advance_decrypt(cbc)

    def test_unsupported_operation(self) -> None:
        with self.assertRaises(localkms.UnsupportedOperationError) as caught:
            self.kms.cancel_key_deletion(self.key_id)  # not pending deletion
        self.check(caught.exception, localkms.UnsupportedOperationError, Status.UNSUPPORTED_OPERATION,
                   "Rejected.UnsupportedOperation", 400)  # fmt: skip
        with self.assertRaises(localkms.UnsupportedOperationError):
            self.kms.create_key(key_spec="EC_SM2")
        with self.assertRaises(localkms.UnsupportedOperationError):
            self.kms.rotate_key(self.kms.create_key(origin="EXTERNAL"))
        with self.assertRaises(localkms.UnsupportedOperationError):
            self.kms.import_key_material(self.key_id, os.urandom(32))  # not EXTERNAL

    def test_block_mode_on_a_default_key(self) -> None:
        # A key created without algorithms permits AES_GCM only: a block mode is
        # Rejected.UnsupportedOperation (HTTP 400) on every path, naming what the
        # key permits.
        default = self.kms.create_key()
        with self.assertRaises(localkms.UnsupportedOperationError) as caught:
            self.kms.advance_encrypt(default, b"x", algorithm="AES_CBC")
        self.check(caught.exception, localkms.UnsupportedOperationError, Status.UNSUPPORTED_OPERATION,
                   "Rejected.UnsupportedOperation", 400)  # fmt: skip
        self.assertIsInstance(caught.exception, localkms.BadRequestError)
        self.assertIn("AES_GCM", caught.exception.message)
        self.assertIn(default, caught.exception.message)
        calls = {
            "encrypt ECB": lambda: self.kms.encrypt(default, b"x", algorithm="AES_ECB"),
            "decrypt CBC": lambda: self.kms.decrypt(bytes(16), default, algorithm="AES_CBC", iv=bytes(16)),
            "advance_decrypt with key_id": lambda: self.kms.advance_decrypt(
                bytes(16), key_id=default, algorithm="AES_ECB"
            ),
        }
        for name, call in calls.items():
            with self.subTest(name), self.assertRaises(localkms.UnsupportedOperationError) as caught:
                call()
            self.assertEqual(caught.exception.code, "Rejected.UnsupportedOperation")

    def test_key_store_access_denied(self) -> None:
        store = self.tmp / "keys.kms"
        right, wrong = self.tmp / "right.key", self.tmp / "wrong.key"
        write_master_key_file(right)
        write_master_key_file(wrong)
        with localkms.Client.open(store, master_key_file=right, create_if_missing=True) as kms:
            kms.create_key()
        before = store.read_bytes()
        with self.assertRaises(localkms.KeyStoreAccessDeniedError) as caught:
            localkms.Client.open(store, master_key_file=wrong)
        self.check(caught.exception, localkms.KeyStoreAccessDeniedError, Status.KEYSTORE_ACCESS_DENIED,
                   "KeyStore.AccessDenied", 403)  # fmt: skip
        self.assertIsInstance(caught.exception, localkms.KeyStoreError)
        self.assertEqual(store.read_bytes(), before)  # a failure changes no file
        readable = self.tmp / "readable.key"
        write_master_key_file(readable, mode=0o644)
        with self.assertRaises(localkms.KeyStoreAccessDeniedError):
            localkms.Client.open(self.tmp / "other.kms", master_key_file=readable, create_if_missing=True)

    def test_key_store_io_and_corrupted(self) -> None:
        with self.assertRaises(localkms.KeyStoreIOError) as caught:
            localkms.Client.open(self.tmp / "missing.kms", master_key=os.urandom(32))
        self.check(caught.exception, localkms.KeyStoreIOError, Status.KEYSTORE_IO, "KeyStore.IOError", 500)
        garbage = self.tmp / "garbage.kms"
        garbage.write_bytes(b"this is not a key store" * 10)
        with self.assertRaises(localkms.KeyStoreCorruptedError) as caught:
            localkms.Client.open(garbage, master_key=os.urandom(32))
        self.check(caught.exception, localkms.KeyStoreCorruptedError, Status.KEYSTORE_CORRUPT, "KeyStore.Corrupted", 500)
        # A real store with random bytes written over the whole file.
        damaged, master_key = self.tmp / "damaged.kms", os.urandom(32)
        with localkms.Client.open(damaged, master_key=master_key, create_if_missing=True) as kms:
            kms.create_key()
        damaged.write_bytes(os.urandom(damaged.stat().st_size))
        with self.assertRaises(localkms.KeyStoreCorruptedError) as caught:
            localkms.Client.open(damaged, master_key=master_key)
        self.check(caught.exception, localkms.KeyStoreCorruptedError, Status.KEYSTORE_CORRUPT, "KeyStore.Corrupted", 500)

    def test_failed_calls_change_nothing(self) -> None:
        before = self.kms.list_aliases()["Aliases"]
        with self.assertRaises(localkms.KeyNotFoundError):
            self.kms.create_alias("alias/x", "key-" + "b" * 21)
        self.assertEqual(self.kms.list_aliases()["Aliases"], before)
        self.assertEqual(self.kms.list_keys()["TotalCount"], 1)

    def test_errors_pickle(self) -> None:
        import pickle

        with self.assertRaises(localkms.KmsError) as caught:
            self.kms.advance_encrypt("alias/nothing", b"x")
        copy = pickle.loads(pickle.dumps(caught.exception))
        self.assertIs(type(copy), localkms.AliasNotFoundError)
        self.assertEqual((copy.status, copy.code, copy.http_status, copy.message, copy.request_id),
                         (caught.exception.status, caught.exception.code, caught.exception.http_status,
                          caught.exception.message, caught.exception.request_id))  # fmt: skip


# --- C and Python on one store ------------------------------------------------------------------------
class TestInteropWithC(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.store = self.tmp / "shared.kms"
        self.master_key_file = self.tmp / "master.key"
        write_master_key_file(self.master_key_file)
        self.assertEqual(stat.S_IMODE(self.master_key_file.stat().st_mode), 0o600)
        self.kms = localkms.Client.open(self.store, master_key_file=self.master_key_file, create_if_missing=True)
        self.addCleanup(self.kms.close)
        self.key_id = self.kms.create_key(description="shared with C", algorithms=ALL_AES)
        self.kms.create_alias("alias/interop", self.key_id)

    def c(self, mode: str, *args: str) -> str:
        return run_interop(mode, str(self.store), str(self.master_key_file), *args)

    def test_blob_made_in_c_decrypts_in_python(self) -> None:
        plaintext = os.urandom(1000)
        (self.tmp / "in").write_bytes(plaintext)
        version = self.c("encrypt", "alias/interop", str(self.tmp / "in"), str(self.tmp / "blob"),
                         "--aad", "aad-from-c")  # fmt: skip
        blob = (self.tmp / "blob").read_bytes()
        self.assertEqual(blob[3:39].decode(), version)
        opened = self.kms.advance_decrypt(blob, aad=b"aad-from-c")
        self.assertEqual((opened.plaintext, opened.key_version_id, opened.key_id), (plaintext, version, self.key_id))
        with self.assertRaises(localkms.InvalidCiphertextError):
            self.kms.advance_decrypt(blob)

    def test_blob_made_in_python_decrypts_in_c(self) -> None:
        plaintext = b"made in Python " * 50
        sealed = self.kms.advance_encrypt("alias/interop", plaintext, aad=b"aad-from-python")
        (self.tmp / "blob").write_bytes(sealed.ciphertext_blob)
        version = self.c("decrypt", str(self.tmp / "blob"), str(self.tmp / "out"), "--aad", "aad-from-python")
        self.assertEqual(version, sealed.key_version_id)
        self.assertEqual((self.tmp / "out").read_bytes(), plaintext)
        # Every algorithm: the C side opens whatever Python made.
        for algorithm, padding, aad in MODES:
            with self.subTest(algorithm=algorithm, padding=padding):
                sealed = self.kms.advance_encrypt(self.key_id, bytes(32), algorithm=algorithm,
                                                  padding_mode=padding, aad=aad)  # fmt: skip
                (self.tmp / "blob").write_bytes(sealed.ciphertext_blob)
                args = ["--aad", aad.decode()] if aad else []
                self.c("decrypt", str(self.tmp / "blob"), str(self.tmp / "out"), *args)
                self.assertEqual((self.tmp / "out").read_bytes(), bytes(32))

    def test_rotation_in_c_is_seen_by_python(self) -> None:
        old = self.kms.advance_encrypt(self.key_id, b"before the C rotation")
        (self.tmp / "in").write_bytes(b"after the C rotation")
        new_version = self.c("encrypt", self.key_id, str(self.tmp / "in"), str(self.tmp / "blob"), "--rotate")
        self.assertNotEqual(new_version, old.key_version_id)
        # This client has not seen the new version: the decrypt re-reads the store.
        opened = self.kms.advance_decrypt((self.tmp / "blob").read_bytes())
        self.assertEqual((opened.plaintext, opened.key_version_id), (b"after the C rotation", new_version))
        deadline = time.monotonic() + 3
        while self.kms.advance_encrypt(self.key_id, b"x").key_version_id != new_version:
            self.assertLess(time.monotonic(), deadline, "the rotation made in C never became primary")
            time.sleep(0.05)
        # The C program still opens the blob made with the old version.
        (self.tmp / "old").write_bytes(old.ciphertext_blob)
        self.assertEqual(self.c("decrypt", str(self.tmp / "old"), str(self.tmp / "out")), old.key_version_id)
        self.assertEqual((self.tmp / "out").read_bytes(), b"before the C rotation")
        versions = self.kms.list_key_versions(self.key_id)["KeyVersions"]["KeyVersion"]
        self.assertEqual([v["KeyVersionId"] for v in versions], [old.key_version_id, new_version])


# --- create_key's options and mirrored cloud keys ----------------------------------------------------
class TestCreateKeyOptions(unittest.TestCase):
    def setUp(self) -> None:
        self.kms = in_memory(self)

    def test_none_is_null_and_the_default(self) -> None:
        options = _lib.kms_create_key_options()
        for name, _ in _lib.kms_create_key_options._fields_:
            self.assertIsNone(getattr(options, name), name)  # a zeroed struct: NULL
        for kwargs in (
            {},
            dict(key_spec=None, key_usage=None, origin=None, description=None, key_id=None, algorithms=None),
            dict(algorithms=[]),
            dict(algorithms=""),
        ):
            with self.subTest(**{k: repr(v) for k, v in kwargs.items()}):
                key_id = self.kms.create_key(**kwargs)
                self.assertRegex(key_id, KEY_ID)
                meta = self.kms.describe_key(key_id)["KeyMetadata"]
                self.assertEqual(
                    (meta["KeySpec"], meta["KeyUsage"], meta["Origin"], meta["Description"], meta["KeyState"]),
                    ("Aliyun_AES_256", "ENCRYPT/DECRYPT", "Aliyun_KMS", "", "Enabled"),
                )
                self.assertEqual(self.kms.advance_encrypt(key_id, b"x").algorithm, "AES_GCM")
                with self.assertRaises(localkms.UnsupportedOperationError):
                    self.kms.advance_encrypt(key_id, b"x", algorithm="AES_CBC")

    def test_every_field_reaches_the_library(self) -> None:
        sm4 = self.kms.create_key(
            key_spec="Aliyun_SM4", key_usage="ENCRYPT/DECRYPT", description="an SM4 key",
            algorithms=("SM4_GCM", "SM4_CBC"),
        )  # fmt: skip
        meta = self.kms.describe_key(sm4)["KeyMetadata"]
        self.assertEqual((meta["KeySpec"], meta["KeyUsage"], meta["Description"]),
                         ("Aliyun_SM4", "ENCRYPT/DECRYPT", "an SM4 key"))  # fmt: skip
        for algorithm, expected in ((None, "SM4_GCM"), ("SM4_CBC", "SM4_CBC")):
            with self.subTest(algorithm=algorithm):
                sealed = self.kms.advance_encrypt(sm4, b"sm4", algorithm=algorithm)
                self.assertEqual(sealed.algorithm, expected)
                self.assertEqual(sealed.ciphertext_blob[2], ALGORITHM_BYTE[expected])
                self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob).plaintext, b"sm4")
        with self.assertRaises(localkms.UnsupportedOperationError) as caught:
            self.kms.advance_encrypt(sm4, b"x", algorithm="SM4_ECB")
        self.assertIn("SM4_CBC", caught.exception.message)
        mirrored = self.kms.create_key(origin="EXTERNAL", key_id="Mirrored-Key-01")
        self.assertEqual(mirrored, "Mirrored-Key-01")
        meta = self.kms.describe_key(mirrored)["KeyMetadata"]
        self.assertEqual((meta["KeyId"], meta["Origin"], meta["KeyState"]),
                         ("Mirrored-Key-01", "EXTERNAL", "PendingImport"))  # fmt: skip

    def test_algorithms_as_a_list_or_a_comma_list(self) -> None:
        for algorithms in (["AES_GCM", "AES_CBC"], "AES_GCM,AES_CBC", iter(["AES_CBC", "AES_GCM"])):
            with self.subTest(algorithms=repr(algorithms)):
                key_id = self.kms.create_key(algorithms=algorithms)
                self.assertEqual(self.kms.advance_encrypt(key_id, b"x", algorithm="AES_CBC").algorithm, "AES_CBC")
                with self.assertRaises(localkms.UnsupportedOperationError):
                    self.kms.advance_encrypt(key_id, b"x", algorithm="AES_ECB")
        for bad in (42, [b"AES_GCM"], ["AES_GCM", None]):
            with self.subTest(bad=repr(bad)), self.assertRaises(TypeError):
                self.kms.create_key(algorithms=bad)

    def test_refusals(self) -> None:
        taken = self.kms.create_key(origin="EXTERNAL", key_id="taken-id")
        for kwargs in (
            dict(key_id="not-external"),  # only EXTERNAL keys take a KeyId
            dict(origin="EXTERNAL", key_id="no spaces"),
            dict(origin="EXTERNAL", key_id=taken),
            dict(algorithms=["AES_GCM", "SM4_CBC"]),  # not of the spec
            dict(algorithms="AES_XTS"),
        ):
            with self.subTest(**kwargs), self.assertRaises(localkms.InvalidParameterError) as caught:
                self.kms.create_key(**kwargs)
            self.assertRegex(caught.exception.request_id, UUID4)  # the library's answer
        nul = ((dict(origin="EXTERNAL", key_id="a\0b"), "KeyId"), (dict(algorithms=["AES_GCM\0"]), "Algorithms"))
        for kwargs, name in nul:
            with self.subTest(name), self.assertRaises(localkms.InvalidParameterError) as caught:
                self.kms.create_key(**kwargs)
            self.assertIsNone(caught.exception.request_id)  # refused before the call
            self.assertIn(f'"{name}"', caught.exception.message)
        self.assertEqual(self.kms.list_keys()["TotalCount"], 1)


class TestMirroredCloudKey(unittest.TestCase):
    """A mirror of a cloud key: the cloud's UUID-form KeyId and a cloud-style
    36-character KeyVersionId, with material imported by import_key_version."""

    KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
    VERSION_ID = "2ab1a983-7072-4bbc-a582-584b5bd80ab1"
    VERSION_2 = "3bc2b094-8183-4ccd-b693-695c6ce91bc2"

    def setUp(self) -> None:
        self.kms = in_memory(self)
        self.assertEqual(self.kms.create_key(origin="EXTERNAL", key_id=self.KEY_ID), self.KEY_ID)
        self.material = os.urandom(32)

    def test_import_key_version(self) -> None:
        self.assertEqual(len(self.VERSION_ID), _lib.KMS_KEY_VERSION_ID_LEN)
        refusals = (
            (localkms.InvalidKeyMaterialError, (self.KEY_ID, self.VERSION_ID, self.material[:31])),
            (localkms.InvalidParameterError, (self.KEY_ID, "not 36 characters", self.material)),
            (localkms.MissingParameterError, (self.KEY_ID, self.VERSION_ID, None)),
            (localkms.KeyNotFoundError, ("key-" + "a" * 21, self.VERSION_ID, self.material)),
        )
        for cls, args in refusals:
            with self.subTest(cls.__name__), self.assertRaises(cls) as caught:
                self.kms.import_key_version(*args)
            self.assertRegex(caught.exception.request_id, UUID4)
        with self.assertRaises(localkms.InvalidParameterError) as caught:
            self.kms.import_key_version(self.KEY_ID, self.VERSION_ID[:35] + "\0", self.material)
        self.assertIsNone(caught.exception.request_id)
        self.assertIn('"KeyVersionId"', caught.exception.message)
        with self.assertRaises(TypeError):
            self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, "material is bytes")

        material = bytearray(self.material)
        self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, material)
        self.assertEqual(material, self.material)  # only the binding's copy is wiped
        versions = self.kms.list_key_versions(self.KEY_ID)["KeyVersions"]["KeyVersion"]
        self.assertEqual([(v["KeyId"], v["KeyVersionId"]) for v in versions], [(self.KEY_ID, self.VERSION_ID)])
        meta = self.kms.describe_key(self.KEY_ID)["KeyMetadata"]
        self.assertEqual((meta["KeyState"], meta["PrimaryKeyVersion"]), ("Enabled", self.VERSION_ID))
        sealed = self.kms.advance_encrypt(self.KEY_ID, b"x")
        self.assertEqual((sealed.key_id, sealed.key_version_id), (self.KEY_ID, self.VERSION_ID))
        self.assertEqual(sealed.ciphertext_blob[3:39].decode(), self.VERSION_ID)

        # A second version, with an expiry (keyword or positional): it becomes primary.
        expire = int(time.time()) + 2 * DAY
        self.kms.import_key_version(self.KEY_ID, self.VERSION_2, os.urandom(32), expire_unix=expire)
        meta = self.kms.describe_key(self.KEY_ID)["KeyMetadata"]
        self.assertEqual(meta["PrimaryKeyVersion"], self.VERSION_2)
        self.assertEqual(
            meta["MaterialExpireTime"],
            datetime.datetime.fromtimestamp(expire, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.assertEqual(self.kms.advance_decrypt(sealed.ciphertext_blob).key_version_id, self.VERSION_ID)
        with self.assertRaises(localkms.InvalidKeyMaterialError):  # other material for a known version
            self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, os.urandom(32))
        self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, self.material, 0)  # the same again
        self.kms.import_key_version(self.KEY_ID, None, os.urandom(32))  # None: a fresh KeyVersionId
        versions = self.kms.list_key_versions(self.KEY_ID)["KeyVersions"]["KeyVersion"]
        self.assertEqual(len(versions), 3)
        self.assertEqual(len(versions[2]["KeyVersionId"]), 36)
        with self.assertRaises(localkms.InvalidParameterError):  # outside int64: refused here
            self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, self.material, 2**63)

    def test_cloud_ciphertext_opens(self) -> None:
        # Python's standard library has no AES: the cloud's side is played by the
        # `cryptography` package when it is importable, and this test is skipped
        # otherwise (the Go and Java suites do the same with their own AES-GCM).
        if AESGCM is None:
            self.skipTest("the cryptography package is not importable")
        self.kms.import_key_version(self.KEY_ID, self.VERSION_ID, self.material)
        gcm = AESGCM(self.material)
        plaintext, aad, iv = b"sealed by the cloud", b"tenant=7", os.urandom(12)
        blob = b"$\x00\x02" + self.VERSION_ID.encode() + iv + gcm.encrypt(iv, plaintext, aad)
        gateway = blob[3:]
        cases = {
            "$ blob": dict(ciphertext_blob=blob),
            "gateway form": dict(ciphertext_blob=gateway),
            "gateway form with the SDK's Iv": dict(ciphertext_blob=gateway, iv=gateway[36:48]),
        }
        for name, kwargs in cases.items():
            with self.subTest(name):
                opened = self.kms.advance_decrypt(aad=aad, **kwargs)
                self.assertEqual(
                    (opened.plaintext, opened.key_id, opened.key_version_id, opened.algorithm, opened.padding_mode),
                    (plaintext, self.KEY_ID, self.VERSION_ID, "AES_GCM", ""),
                )
                with self.assertRaises(localkms.InvalidCiphertextError):
                    self.kms.advance_decrypt(aad=b"tenant=8", **kwargs)
        # The other way: the library's blob and bare ciphertext open with the cloud's AES-GCM.
        sealed = self.kms.advance_encrypt(self.KEY_ID, plaintext, aad=aad)
        self.assertEqual(gcm.decrypt(sealed.iv, sealed.ciphertext_blob[39 + 12 :], aad), plaintext)
        bare = self.kms.encrypt(self.KEY_ID, plaintext)
        self.assertEqual(bare.key_version_id, self.VERSION_ID)
        self.assertEqual(gcm.decrypt(bare.iv, bare.ciphertext_blob, None), plaintext)


# --- threads -----------------------------------------------------------------------------------------
class TestThreads(unittest.TestCase):
    THREADS = 16
    OPERATIONS = 100

    def test_many_threads_on_one_client_while_rotating(self) -> None:
        # Threads through the binding (ctypes releases the GIL in every call; the
        # argument copies and response frees are per call), with a rotating key
        # as load. What rotation under threads does to versions: tests/threads.rs.
        kms = in_memory(self)
        key_id = kms.create_key()
        kms.create_alias("alias/busy", key_id)
        rotations: list[str] = []
        # Halfway through, every worker waits and one rotation happens: the blobs
        # are then certain to span at least two versions, whatever the timing.
        halfway = threading.Barrier(self.THREADS, action=lambda: rotations.append(kms.rotate_key(key_id)))
        start = threading.Barrier(self.THREADS + 1)
        done = threading.Event()
        results: list[list[tuple[bytes, bytes, str, bytes | None]]] = [[] for _ in range(self.THREADS)]
        failures: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                start.wait()
                mine = results[n]
                for i in range(self.OPERATIONS):
                    if i == self.OPERATIONS // 2:
                        halfway.wait()
                    plaintext = f"thread {n} operation {i}".encode()
                    aad = f"aad {n}".encode() if i % 2 else None
                    target = "alias/busy" if i % 3 else key_id
                    if i % 5 == 4:
                        data_key = kms.advance_generate_data_key(target, aad=aad)
                        mine.append((data_key.ciphertext_blob, bytes(data_key.plaintext), data_key.key_version_id, aad))
                    else:
                        sealed = kms.advance_encrypt(target, plaintext, aad=aad)
                        mine.append((sealed.ciphertext_blob, plaintext, sealed.key_version_id, aad))
                    if i % 4 == 0:  # decrypt something made earlier, concurrently
                        blob, expected, version, old_aad = mine[i // 2]
                        opened = kms.advance_decrypt(blob, aad=old_aad)
                        if opened.plaintext != expected or opened.key_version_id != version:
                            raise AssertionError(f"thread {n}: wrong decryption of operation {i // 2}")
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)
                halfway.abort()

        def rotator() -> None:
            try:
                start.wait()
                while not done.is_set():
                    rotations.append(kms.rotate_key("alias/busy"))
                    kms.list_key_versions(key_id)
                    time.sleep(0.002)
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.THREADS)]
        rotating = threading.Thread(target=rotator)
        for t in (*threads, rotating):
            t.start()
        for t in threads:
            t.join()
        done.set()
        rotating.join()
        self.assertEqual(failures, [])

        versions_used = set()
        count = 0
        for mine in results:
            self.assertEqual(len(mine), self.OPERATIONS)
            for blob, expected, version, aad in mine:
                opened = kms.advance_decrypt(blob, aad=aad)
                self.assertEqual(opened.plaintext, expected)
                self.assertEqual(opened.key_version_id, version)
                versions_used.add(version)
                count += 1
        self.assertEqual(count, self.THREADS * self.OPERATIONS)
        self.assertGreaterEqual(len(versions_used), 2)  # the halfway rotation

    def test_clock_called_from_many_threads(self) -> None:
        # The ctypes callback runs on the threads that make the calls (taking the
        # GIL there); every call sees the Python clock's time.
        kms = in_memory(self)
        callers: set[str] = set()
        lock = threading.Lock()

        def clock() -> int:
            with lock:
                callers.add(threading.current_thread().name)
            return JAN_1_2026

        kms.set_clock(clock)
        failures: list[BaseException] = []
        dates: set[str] = set()

        def worker() -> None:
            try:
                for _ in range(20):
                    key_id = kms.create_key()
                    dates.add(kms.describe_key(key_id)["KeyMetadata"]["CreationDate"])
            except BaseException as exc:  # noqa: BLE001
                failures.append(exc)

        threads = [threading.Thread(target=worker, name=f"clock-worker-{n}") for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(dates, {"2026-01-01T00:00:00Z"})
        self.assertGreater(len({name for name in callers if name.startswith("clock-worker-")}), 1, callers)


if __name__ == "__main__":
    unittest.main()
