"""Threads through the binding: many calls on one client, the clock called from many threads."""

from __future__ import annotations

import threading
import time
import unittest

from support import JAN_1_2026, in_memory


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
