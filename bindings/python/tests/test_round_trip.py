"""Byte arguments and results through ctypes: every algorithm and padding, data keys, wiping."""

from __future__ import annotations

import array
import os
import unittest

import localkms
from localkms import _lib
from support import UUID4, ALGORITHM_BYTE, IV_LEN, ALL_AES, in_memory, MODES


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
