package com.localkms;

import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Pattern;

/** Assertions for the harness: each throws {@link AssertionError} with what differed. */
final class Check {
    static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    static final Pattern KEY_ID = Pattern.compile("key-[a-z0-9]{21}");
    static final Pattern KEY_VERSION_ID = Pattern.compile("key-[a-z0-9]{21}-[a-z0-9]{10}");

    private Check() {
    }

    /** A body that may throw anything. */
    interface Body {
        void run() throws Exception;
    }

    static void isTrue(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }

    static void notEqual(Object unexpected, Object actual, String what) {
        if (Objects.equals(unexpected, actual)) {
            throw new AssertionError(what + ": did not expect <" + actual + ">");
        }
    }

    static void bytes(byte[] expected, byte[] actual, String what) {
        if (!Arrays.equals(expected, actual)) {
            throw new AssertionError(what + ": expected " + hex(expected) + " but was " + hex(actual));
        }
    }

    static void contains(String haystack, String needle, String what) {
        if (haystack == null || !haystack.contains(needle)) {
            throw new AssertionError(what + ": <" + needle + "> not in <" + haystack + ">");
        }
    }

    static void matches(Pattern pattern, String actual, String what) {
        if (actual == null || !pattern.matcher(actual).matches()) {
            throw new AssertionError(what + ": <" + actual + "> does not match " + pattern);
        }
    }

    static void allZero(byte[] a, String what) {
        for (byte b : a) {
            if (b != 0) {
                throw new AssertionError(what + ": not wiped: " + hex(a));
            }
        }
    }

    /**
     * Runs {@code body}, which must fail with a {@link KmsException} of
     * {@code status}; checks the code, HTTP status, message and RequestId, and
     * returns the exception.
     */
    static KmsException fails(KmsStatus status, String code, int http, Body body) {
        try {
            body.run();
        } catch (KmsException e) {
            equal(status, e.getStatus(), "status of " + e);
            equal(status.number(), e.getStatusNumber(), "status number of " + e);
            equal(code, e.getCode(), "code of " + e);
            equal(http, e.getHttpStatus(), "HTTP status of " + e);
            isTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "message of " + e);
            matches(UUID, e.getRequestId(), "RequestId of " + e);
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected " + code + " but got " + e, e);
        }
        throw new AssertionError("expected " + code + " but the call succeeded");
    }

    static String hex(byte[] a) {
        if (a == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length && i < 64; i++) {
            sb.append(String.format("%02x", a[i] & 0xff));
        }
        if (a.length > 64) {
            sb.append("...(").append(a.length).append(" bytes)");
        }
        return sb.toString();
    }
}
