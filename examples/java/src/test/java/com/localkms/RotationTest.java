package com.localkms;

/** Manual rotation: old blobs keep decrypting; Encrypt stays on the initial version. */
public final class RotationTest {
    private RotationTest() {
    }

    public static void testRotationKeepsOldBlobsAndUsesNewVersion() {
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

    /** Encrypt and GenerateDataKey use the initial version whatever rotations happened. */
    public static void testEncryptStaysOnInitialVersionAdvanceEncryptMoves() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = TestEnv.allAesKey(kms);
            String initial = kms.encrypt(key, TestEnv.utf8("x")).getKeyVersionId();
            Check.equal(initial, kms.advanceEncrypt(key, TestEnv.utf8("x")).getKeyVersionId(),
                    "before rotation both use the initial version");
            String latest = null;
            for (int i = 0; i < 3; i++) {
                latest = kms.rotateKey(key);
            }
            EncryptResult plain = kms.encrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("plain"))
                    .algorithm(Algorithm.AES_CBC).build());
            Check.equal(initial, plain.getKeyVersionId(), "Encrypt after rotation");
            Check.equal(latest, kms.advanceEncrypt(key, TestEnv.utf8("adv")).getKeyVersionId(),
                    "AdvanceEncrypt after rotation");
            try (DecryptResult dec = kms.decrypt(DecryptRequest.forEncryptResult(plain).build())) {
                Check.bytes(TestEnv.utf8("plain"), dec.getPlaintext(), "Decrypt after rotation");
                Check.equal(initial, dec.getKeyVersionId(), "Decrypt uses the initial version");
            }
            try (DataKeyResult dk = kms.generateDataKey(key, 0, null)) {
                Check.equal(initial, dk.getKeyVersionId(), "GenerateDataKey after rotation");
            }
            try (DataKeyResult dk = kms.advanceGenerateDataKey(key, 0, null)) {
                Check.equal(latest, dk.getKeyVersionId(), "AdvanceGenerateDataKey after rotation");
            }
        }
    }
}
