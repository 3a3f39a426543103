"""Blobs exchanged with examples/interop/interop.c through a shared store file."""

from __future__ import annotations

import os
import stat
import time

import localkms
from support import ALL_AES, write_master_key_file, TempDirTestCase, run_interop, MODES


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
