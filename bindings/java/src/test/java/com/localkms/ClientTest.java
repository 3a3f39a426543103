package com.localkms;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** The client itself: version, status table, open/close, separate stores. */
final class ClientTest {
    @Test
    void testVersion() {
        Check.matches(Pattern.compile("\\d+\\.\\d+\\.\\d+.*"), LocalKms.version(), "kms_version");
    }

    /** The Java enum agrees with kms_status_code / kms_status_http_status for every status. */
    @Test
    void testStatusTableMatchesLibrary() {
        for (KmsStatus s : KmsStatus.values()) {
            if (s == KmsStatus.UNKNOWN) {
                continue;
            }
            Check.equal(s.code(), LocalKms.statusCode(s.number()), "kms_status_code(" + s.number() + ")");
            Check.equal(s.httpStatus(), LocalKms.statusHttpStatus(s.number()),
                    "kms_status_http_status(" + s.number() + ")");
            Check.equal(s, KmsStatus.of(s.number()), "KmsStatus.of");
        }
        Check.equal("Unknown", LocalKms.statusCode(12345), "code of a number that is no status");
        Check.equal(0, LocalKms.statusHttpStatus(12345), "HTTP status of a number that is no status");
        Check.equal(KmsStatus.UNKNOWN, KmsStatus.of(12345), "KmsStatus.of(12345)");
        Check.equal("InternalFailure", LocalKms.statusCode(500), "InternalFailure");
    }

    @Test
    void testCloseIsIdempotentAndLaterCallsThrow() {
        LocalKms kms = LocalKms.openInMemory();
        String key = kms.createKey();
        Check.isTrue(!kms.isClosed(), "open client reports closed");
        kms.close();
        kms.close();
        Check.isTrue(kms.isClosed(), "closed client reports open");
        try {
            kms.advanceEncrypt(key, TestEnv.utf8("x"));
            throw new AssertionError("a call after close() succeeded");
        } catch (IllegalStateException expected) {
            Check.contains(expected.getMessage(), "closed", "message");
        }
        try {
            kms.setClock(() -> 0L);
            throw new AssertionError("setClock after close() succeeded");
        } catch (IllegalStateException expected) {
            // expected
        }
    }

    @Test
    void testInMemoryStoresAreSeparate() {
        try (LocalKms a = LocalKms.openInMemory(); LocalKms b = LocalKms.open(OpenOptions.inMemory())) {
            String key = a.createKey();
            Check.matches(Check.KEY_ID, key, "KeyId");
            a.advanceEncrypt(key, TestEnv.utf8("x"));
            Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
                    () -> b.advanceEncrypt(key, TestEnv.utf8("x")));
            Check.contains(a.listKeys(), key, "ListKeys of a");
            Check.isTrue(!b.listKeys().contains(key), "b lists a's key");
        }
        try (LocalKms c = LocalKms.open(null)) {
            Check.contains(c.listKeys(), "\"Keys\"", "ListKeys with null options");
        }
    }

    /** A store file with a master key given as bytes: a second client sees the first's keys. */
    @Test
    void testFileStoreWithMasterKeyBytes() throws Exception {
        Path dir = TestEnv.freshDir("bytes-store");
        Path store = dir.resolve("keys.kms");
        byte[] master = TestEnv.randomBytes(32);
        String key;
        byte[] blob;
        OpenOptions options = OpenOptions.builder().keystorePath(store).masterKey(master)
                .createIfMissing(true).build();
        try (LocalKms kms = LocalKms.open(options)) {
            key = kms.createKey();
            kms.createAlias("alias/bytes-store", key);
            blob = kms.advanceEncrypt("alias/bytes-store", TestEnv.utf8("kept")).getCiphertextBlob();
        }
        TestEnv.checkSqliteStore(store);
        try (LocalKms again = LocalKms.open(OpenOptions.builder().keystorePath(store.toString())
                .masterKey(master).build());
                DecryptResult dec = again.advanceDecrypt(blob)) {
            Check.bytes(TestEnv.utf8("kept"), dec.getPlaintext(), "plaintext after reopening");
            Check.equal(key, dec.getKeyId(), "KeyId after reopening");
            Check.contains(again.listAliases(), "alias/bytes-store", "alias kept");
        } finally {
            java.util.Arrays.fill(master, (byte) 0);
        }
    }
}
