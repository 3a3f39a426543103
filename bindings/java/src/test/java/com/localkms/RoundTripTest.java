package com.localkms;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

/** Every algorithm and padding, every AES key size, AdvanceEncrypt and Encrypt. */
final class RoundTripTest {
    /** An algorithm, a padding mode (null: none given) and whether Aad is used. */
    private static final class Mode {
        final Algorithm algorithm;
        final PaddingMode padding;
        final boolean aad;

        Mode(Algorithm algorithm, PaddingMode padding, boolean aad) {
            this.algorithm = algorithm;
            this.padding = padding;
            this.aad = aad;
        }

        int ivLen() {
            return algorithm == Algorithm.AES_GCM ? 12 : algorithm == Algorithm.AES_CBC ? 16 : 0;
        }

        int blobAlgorithmByte() {
            return algorithm == Algorithm.AES_GCM ? 2 : algorithm == Algorithm.AES_CBC ? 1 : 3;
        }

        String expectedPadding() {
            if (algorithm == Algorithm.AES_GCM) {
                return "";
            }
            return padding == null ? "PKCS7_PADDING" : padding.name();
        }

        int[] lengths() {
            return padding == PaddingMode.NO_PADDING ? new int[] {16, 32, 4096}
                    : new int[] {0, 1, 15, 16, 17, 100, 4096};
        }

        @Override
        public String toString() {
            return algorithm + "/" + (padding == null ? "default" : padding) + (aad ? "/aad" : "");
        }
    }

    private static final Mode[] MODES = {
        new Mode(Algorithm.AES_GCM, null, false),
        new Mode(Algorithm.AES_GCM, null, true),
        new Mode(Algorithm.AES_CBC, null, false),
        new Mode(Algorithm.AES_CBC, PaddingMode.PKCS7_PADDING, false),
        new Mode(Algorithm.AES_CBC, PaddingMode.NO_PADDING, false),
        new Mode(Algorithm.AES_ECB, PaddingMode.PKCS7_PADDING, false),
        new Mode(Algorithm.AES_ECB, PaddingMode.NO_PADDING, false),
    };

    private static final String[] SPECS = {
        CreateKeyRequest.ALIYUN_AES_256, CreateKeyRequest.ALIYUN_AES_192, CreateKeyRequest.ALIYUN_AES_128,
    };

    @Test
    void testAdvanceRoundTripEveryAlgorithmPaddingAndKeySize() {
        Set<String> requestIds = new HashSet<>();
        try (LocalKms kms = LocalKms.openInMemory()) {
            for (String spec : SPECS) {
                String key = TestEnv.allAesKey(kms, spec);
                for (Mode mode : MODES) {
                    for (int n : mode.lengths()) {
                        String what = spec + " " + mode + " " + n + " bytes";
                        byte[] plaintext = TestEnv.randomBytes(n);
                        byte[] aad = mode.aad ? TestEnv.utf8("context:" + n) : null;
                        EncryptResult enc = kms.advanceEncrypt(EncryptRequest.builder(key)
                                .plaintext(plaintext).algorithm(mode.algorithm)
                                .paddingMode(mode.padding).aad(aad).build());
                        Check.equal(key, enc.getKeyId(), what + ": KeyId");
                        Check.matches(Check.KEY_VERSION_ID, enc.getKeyVersionId(), what + ": KeyVersionId");
                        Check.isTrue(enc.getKeyVersionId().startsWith(key + "-"), what + ": version of the key");
                        Check.equal(mode.algorithm.name(), enc.getAlgorithm(), what + ": Algorithm");
                        Check.equal(mode.expectedPadding(), enc.getPaddingMode(), what + ": PaddingMode");
                        Check.equal(mode.ivLen(), enc.getIv().length, what + ": IV length");
                        Check.matches(Check.UUID, enc.getRequestId(), what + ": RequestId");
                        Check.isTrue(requestIds.add(enc.getRequestId()), what + ": RequestId reused");
                        byte[] blob = enc.getCiphertextBlob();
                        Check.equal((int) '$', (int) blob[0], what + ": blob magic");
                        Check.equal(mode.blobAlgorithmByte(), (int) blob[2], what + ": blob algorithm byte");
                        Check.equal(enc.getKeyVersionId(),
                                new String(blob, 3, 36, java.nio.charset.StandardCharsets.US_ASCII),
                                what + ": KeyVersionId in the blob");

                        try (DecryptResult dec = kms.advanceDecrypt(DecryptRequest.builder(blob).aad(aad).build())) {
                            Check.bytes(plaintext, dec.getPlaintext(), what + ": plaintext");
                            Check.equal(key, dec.getKeyId(), what + ": decrypt KeyId");
                            Check.equal(enc.getKeyVersionId(), dec.getKeyVersionId(), what + ": decrypt version");
                            Check.equal(mode.algorithm.name(), dec.getAlgorithm(), what + ": decrypt Algorithm");
                            Check.equal(mode.expectedPadding(), dec.getPaddingMode(), what + ": decrypt padding");
                            Check.matches(Check.UUID, dec.getRequestId(), what + ": decrypt RequestId");
                        }
                    }
                }
            }
        }
    }

    /** Encrypt output (bare ciphertext) opens with Decrypt and with AdvanceDecrypt given the key ID. */
    @Test
    void testEncryptDecryptEveryAlgorithmAndPadding() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = TestEnv.allAesKey(kms);
            for (Mode mode : MODES) {
                for (int n : mode.lengths()) {
                    String what = mode + " " + n + " bytes";
                    byte[] plaintext = TestEnv.randomBytes(n);
                    byte[] aad = mode.aad ? TestEnv.utf8("aad") : null;
                    EncryptResult enc = kms.encrypt(EncryptRequest.builder(key).plaintext(plaintext)
                            .algorithm(mode.algorithm).paddingMode(mode.padding).aad(aad).build());
                    int expectedLen = mode.algorithm == Algorithm.AES_GCM ? n + 16
                            : mode.padding == PaddingMode.NO_PADDING ? n : (n / 16 + 1) * 16;
                    Check.equal(expectedLen, enc.getCiphertextBlob().length, what + ": bare ciphertext length");
                    try (DecryptResult dec = kms.decrypt(DecryptRequest.forEncryptResult(enc).aad(aad).build())) {
                        Check.bytes(plaintext, dec.getPlaintext(), what + ": Decrypt");
                        Check.equal(enc.getKeyVersionId(), dec.getKeyVersionId(), what + ": Decrypt version");
                    }
                    try (DecryptResult dec = kms.advanceDecrypt(DecryptRequest.forEncryptResult(enc).aad(aad).build())) {
                        Check.bytes(plaintext, dec.getPlaintext(), what + ": AdvanceDecrypt with KeyId");
                    }
                }
            }
        }
    }

    @Test
    void testExplicitIvIsUsedAndDeterministic() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = TestEnv.allAesKey(kms);
            byte[] plaintext = TestEnv.utf8("same input, same IV");
            byte[] gcmIv = TestEnv.randomBytes(12);
            EncryptResult a = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(plaintext).iv(gcmIv).build());
            EncryptResult b = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(plaintext).iv(gcmIv).build());
            Check.bytes(gcmIv, a.getIv(), "GCM IV returned");
            Check.bytes(a.getCiphertextBlob(), b.getCiphertextBlob(), "same IV, same blob");
            EncryptResult c = kms.advanceEncrypt(key, plaintext);
            EncryptResult d = kms.advanceEncrypt(key, plaintext);
            Check.isTrue(!java.util.Arrays.equals(c.getIv(), d.getIv()), "random IVs repeat");
            byte[] cbcIv = TestEnv.randomBytes(16);
            EncryptResult e = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(plaintext)
                    .algorithm("AES_CBC").iv(cbcIv).build());
            Check.bytes(cbcIv, e.getIv(), "CBC IV returned");
        }
    }

    @Test
    void testResultsWipeTheirPlaintext() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            byte[] blob = kms.advanceEncrypt(key, TestEnv.utf8("wipe me")).getCiphertextBlob();
            DecryptResult dec = kms.advanceDecrypt(blob);
            byte[] plaintext = dec.getPlaintext();
            Check.bytes(TestEnv.utf8("wipe me"), plaintext, "plaintext");
            dec.close();
            Check.allZero(plaintext, "plaintext after close()");
            DataKeyResult dk = kms.advanceGenerateDataKey(key, 16, null);
            byte[] dataKey = dk.getPlaintext();
            dk.close();
            Check.allZero(dataKey, "data key after close()");
        }
    }

    /** The wrong Aad, a changed tag, a changed block: all InvalidCiphertext. */
    @Test
    void testTamperedCiphertextIsRejected() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = TestEnv.allAesKey(kms);
            byte[] aad = TestEnv.utf8("right");
            byte[] blob = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("data"))
                    .aad(aad).build()).getCiphertextBlob();
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(DecryptRequest.builder(blob).aad(TestEnv.utf8("wrong")).build()));
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(blob));
            byte[] changed = blob.clone();
            changed[changed.length - 1] ^= 1;
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(DecryptRequest.builder(changed).aad(aad).build()));
            byte[] cbc = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("data"))
                    .algorithm(Algorithm.AES_CBC).build()).getCiphertextBlob();
            byte[] truncated = java.util.Arrays.copyOf(cbc, cbc.length - 1);
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(truncated));
        }
    }
}
