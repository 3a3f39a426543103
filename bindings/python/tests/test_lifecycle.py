"""Opening and closing clients, the finalizer, stores and the int flags of the C ABI."""

from __future__ import annotations

import gc
import os
import stat
import threading
import time
from pathlib import Path

import localkms
from localkms import Status
from support import UUID4, KEY_ID, DAY, JAN_1_2026, write_master_key_file, TempDirTestCase


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
