"""Keys, aliases, documents and create_key's options; mirrored cloud keys."""

from __future__ import annotations

import datetime
import os
import time
import unittest

import localkms
from localkms import _lib
from support import UUID4, KEY_ID, DAY, JAN_1_2026, ALGORITHM_BYTE, AESGCM, in_memory


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
