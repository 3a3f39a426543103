package com.localkms;

import org.junit.jupiter.api.Test;

/**
 * RotateKey through the binding: the new KeyVersionId comes back, AdvanceEncrypt
 * uses it and the old blob still opens. Which version each operation uses after
 * rotations is the Rust suite's (tests/service_behaviour.rs).
 */
final class RotationTest {
    @Test
    void testRotationKeepsOldBlobsAndUsesNewVersion() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            EncryptResult before = kms.advanceEncrypt(key, TestEnv.utf8("before"));
            String v1 = before.getKeyVersionId();
            Check.contains(kms.describeKey(key), "\"PrimaryKeyVersion\":\"" + v1 + "\"", "DescribeKey before");

            String v2 = kms.rotateKey(key);
            Check.matches(Check.KEY_VERSION_ID, v2, "new KeyVersionId");
            Check.isTrue(v2.startsWith(key + "-"), "new version belongs to the key");
            Check.notEqual(v1, v2, "rotation made a new version");

            EncryptResult after = kms.advanceEncrypt(key, TestEnv.utf8("after"));
            Check.equal(v2, after.getKeyVersionId(), "AdvanceEncrypt after rotation");

            try (DecryptResult old = kms.advanceDecrypt(before.getCiphertextBlob())) {
                Check.bytes(TestEnv.utf8("before"), old.getPlaintext(), "old blob");
                Check.equal(v1, old.getKeyVersionId(), "old blob names the old version");
            }
            try (DecryptResult neu = kms.advanceDecrypt(after.getCiphertextBlob())) {
                Check.bytes(TestEnv.utf8("after"), neu.getPlaintext(), "new blob");
                Check.equal(v2, neu.getKeyVersionId(), "new blob names the new version");
            }
            String versions = kms.listKeyVersions(key);
            Check.contains(versions, v1, "ListKeyVersions has the old version");
            Check.contains(versions, v2, "ListKeyVersions has the new version");
            Check.contains(versions, "\"TotalCount\":2", "ListKeyVersions count");
            Check.isTrue(versions.indexOf(v1) < versions.indexOf(v2), "initial version first");
            Check.contains(kms.describeKey(key), "\"PrimaryKeyVersion\":\"" + v2 + "\"", "DescribeKey after");
        }
    }
}
