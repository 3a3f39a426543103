package com.localkms;

import org.junit.jupiter.api.Test;

import com.sun.jna.Callback;
import com.sun.jna.Native;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** setClock: a LongSupplier behind kms_clock_fn drives automatic rotation and dates. */
final class ClockTest {
    private static final long DAY = 86_400L;

    /**
     * The one smoke test of automatic rotation here: the supplier's time reaches
     * the library, and is no longer asked after setClock(null). The rotation
     * schedule itself is tested in tests/service_behaviour.rs.
     */
    @Test
    void testAutomaticRotationFollowsTheClock() {
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
            Check.contains(kms.describeKey(key), "604800s", "RotationInterval");
            String v1 = kms.advanceEncrypt(key, TestEnv.utf8("week 0")).getKeyVersionId();
            now.addAndGet(7 * DAY + 60);
            System.gc();
            Check.notEqual(v1, kms.advanceEncrypt(key, TestEnv.utf8("day 7")).getKeyVersionId(),
                    "rotation after 7 days of the supplier's time");
            Check.isTrue(calls.get() > 0, "the clock was called");

            // null restores the system clock: the supplier is no longer called.
            kms.setClock(null);
            int before = calls.get();
            kms.advanceEncrypt(key, TestEnv.utf8("system clock"));
            kms.describeKey(key);
            Check.equal(before, calls.get(), "supplier calls after setClock(null)");
        }
    }

    /** Dates in documents come from the clock. */
    @Test
    void testDatesComeFromTheClock() {
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
    @Test
    void testThrowingSupplierFallsBackToSystemClock() {
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
