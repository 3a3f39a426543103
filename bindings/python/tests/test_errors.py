"""Every status as its exception class, with code, HTTP status, message and RequestId."""

from __future__ import annotations

import os

import localkms
from localkms import Status
from support import UUID4, ALL_AES, write_master_key_file, TempDirTestCase, in_memory


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
