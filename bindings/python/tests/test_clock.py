"""Rotation calls and the clock callback (one smoke test of automatic rotation)."""

from __future__ import annotations

import datetime
import gc
import time
import unittest

import localkms
from localkms import _lib
from support import DAY, JAN_1_2026, in_memory


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
