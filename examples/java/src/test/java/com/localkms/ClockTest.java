package com.localkms;

import com.sun.jna.Callback;
import com.sun.jna.Native;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** setClock: a LongSupplier behind kms_clock_fn drives automatic rotation and dates. */
public final class ClockTest {
    private static final long DAY = 86_400L;

    private ClockTest() {
    }

    /** "7d" policy; the clock moved past 7 days gives a new primary version. */
    public static void testAutomaticRotationFollowsTheClock() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            AtomicLong now = new AtomicLong(System.currentTimeMillis() / 1000L);
            AtomicInteger calls = new AtomicInteger();
            kms.setClock(() -> {
                calls.incrementAndGet();
                return now.get();
            });
            // The callback object is held by the client only: collecting garbage must not free it.
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            String key = kms.createKey();
            kms.updateRotationPolicy(key, true, "7d");
            String doc = kms.describeKey(key);
            Check.contains(doc, "604800s", "RotationInterval");
            Check.contains(doc, "NextRotationDate", "NextRotationDate");
            EncryptResult first = kms.advanceEncrypt(key, TestEnv.utf8("week 0"));
            String v1 = first.getKeyVersionId();

            now.addAndGet(6 * DAY);
            System.gc();
            Check.equal(v1, kms.advanceEncrypt(key, TestEnv.utf8("day 6")).getKeyVersionId(),
                    "no rotation before 7 days");

            now.addAndGet(DAY + 60);
            System.gc();
            EncryptResult later = kms.advanceEncrypt(key, TestEnv.utf8("day 7"));
            String v2 = later.getKeyVersionId();
            Check.notEqual(v1, v2, "rotation after 7 days");
            Check.contains(kms.listKeyVersions(key), "\"TotalCount\":2", "two versions");
            Check.equal(v2, kms.advanceEncrypt(key, TestEnv.utf8("again")).getKeyVersionId(),
                    "one rotation per interval");
            Check.equal(first.getKeyVersionId(), kms.encrypt(key, TestEnv.utf8("x")).getKeyVersionId(),
                    "Encrypt stays on the initial version");
            try (DecryptResult dec = kms.advanceDecrypt(first.getCiphertextBlob())) {
                Check.equal(v1, dec.getKeyVersionId(), "the week-0 blob still decrypts with v1");
            }
            Check.isTrue(calls.get() > 0, "the clock was called");

            // Missing several dates gives one new version.
            now.addAndGet(30 * DAY);
            String v3 = kms.advanceEncrypt(key, TestEnv.utf8("day 38")).getKeyVersionId();
            Check.notEqual(v2, v3, "rotation after a month");
            Check.contains(kms.listKeyVersions(key), "\"TotalCount\":3", "one version for missed dates");

            kms.updateRotationPolicy(key, false, null);
            now.addAndGet(30 * DAY);
            Check.equal(v3, kms.advanceEncrypt(key, TestEnv.utf8("off")).getKeyVersionId(),
                    "no rotation once the policy is off");

            // null restores the system clock: the supplier is no longer called.
            kms.setClock(null);
            int before = calls.get();
            kms.updateRotationPolicy(key, true, "7d");
            kms.advanceEncrypt(key, TestEnv.utf8("system clock"));
            kms.describeKey(key);
            Check.equal(before, calls.get(), "supplier calls after setClock(null)");
        }
    }

    /** Dates in documents come from the clock. */
    public static void testDatesComeFromTheClock() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            kms.setClock(() -> 1_893_456_000L); // 2030-01-01T00:00:00Z
            String key = kms.createKey();
            Check.contains(kms.describeKey(key), "2030-01-01T00:00:00Z", "CreationDate from the clock");
            kms.setClock(() -> 1_893_456_000L + 12 * 3600L);
            kms.rotateKey(key);
            Check.contains(kms.listKeyVersions(key), "2030-01-01T12:00:00Z", "version date from the new clock");
        }
    }

    /** A supplier that throws does not unwind into native code: that call uses the system clock. */
    public static void testThrowingSupplierFallsBackToSystemClock() {
        Callback.UncaughtExceptionHandler previous = Native.getCallbackExceptionHandler();
        List<Throwable> reported = Collections.synchronizedList(new ArrayList<>());
        Native.setCallbackExceptionHandler((callback, e) -> reported.add(e));
        try (LocalKms kms = LocalKms.openInMemory()) {
            kms.setClock(() -> {
                throw new IllegalStateException("broken clock");
            });
            String key = kms.createKey();
            kms.advanceEncrypt(key, TestEnv.utf8("still works"));
            String year = String.valueOf(java.time.Year.now(java.time.ZoneOffset.UTC).getValue());
            Check.contains(kms.describeKey(key), "\"CreationDate\":\"" + year, "system time used");
            Check.isTrue(!reported.isEmpty(), "the failure was reported");
            Check.equal("broken clock", reported.get(0).getMessage(), "reported exception");
        } finally {
            Native.setCallbackExceptionHandler(previous);
        }
    }
}
