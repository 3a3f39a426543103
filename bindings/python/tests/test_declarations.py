"""The ctypes declarations against the header, the C layout and library discovery."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import localkms
from localkms import Status, _lib
from localkms.errors import STATUS_TABLE, error_class
from support import HEADER, run_interop


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
