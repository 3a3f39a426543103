package com.localkms;

import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** GenerateDataKey and AdvanceGenerateDataKey, and envelope encryption with the JDK. */
final class DataKeyTest {
    @Test
    void testAdvanceDataKeyRoundTrip() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            try (DataKeyResult dk = kms.advanceGenerateDataKey(key, 0, null)) {
                Check.equal(32, dk.getPlaintext().length, "default data key length");
                Check.equal("AES_GCM", dk.getAlgorithm(), "algorithm");
                Check.equal(12, dk.getIv().length, "IV length");
                Check.equal(key, dk.getKeyId(), "KeyId");
                Check.matches(Check.UUID, dk.getRequestId(), "RequestId");
                try (DecryptResult dec = kms.advanceDecrypt(dk.getCiphertextBlob())) {
                    Check.bytes(dk.getPlaintext(), dec.getPlaintext(), "data key from its blob");
                    Check.equal(dk.getKeyVersionId(), dec.getKeyVersionId(), "version");
                }
            }
            byte[] aad = TestEnv.utf8("tenant=42");
            try (DataKeyResult dk = kms.advanceGenerateDataKey(key, 64, aad)) {
                Check.equal(64, dk.getPlaintext().length, "64-byte data key");
                try (DecryptResult dec = kms.advanceDecrypt(DecryptRequest.builder(dk.getCiphertextBlob())
                        .aad(aad).build())) {
                    Check.bytes(dk.getPlaintext(), dec.getPlaintext(), "data key with Aad");
                }
                Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                        () -> kms.advanceDecrypt(dk.getCiphertextBlob()));
            }
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceGenerateDataKey(key, 1025, null));
            try (DataKeyResult dk = kms.advanceGenerateDataKey(key, 1024, null)) {
                Check.equal(1024, dk.getPlaintext().length, "largest data key");
            }
        }
    }

    @Test
    void testPlainDataKeyOpensWithDecrypt() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            byte[] aad = TestEnv.utf8("aad");
            try (DataKeyResult dk = kms.generateDataKey(key, 16, aad)) {
                Check.equal(16, dk.getPlaintext().length, "data key length");
                Check.equal(16 + 16, dk.getCiphertextBlob().length, "bare ciphertext || tag");
                try (DecryptResult dec = kms.decrypt(DecryptRequest.builder(dk.getCiphertextBlob())
                        .keyId(key).algorithm(Algorithm.AES_GCM).iv(dk.getIv()).aad(aad).build())) {
                    Check.bytes(dk.getPlaintext(), dec.getPlaintext(), "data key from Decrypt");
                }
            }
        }
    }

    /** Envelope encryption: the data key encrypts with the JDK's AES-GCM; only its blob is kept. */
    @Test
    void testEnvelopeEncryptionWithJdkCipher() throws Exception {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            byte[] message = TestEnv.utf8("a large document, encrypted locally");
            byte[] nonce = TestEnv.randomBytes(12);
            byte[] sealed;
            byte[] keptBlob;
            try (DataKeyResult dk = kms.advanceGenerateDataKey(key, 32, null)) {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(dk.getPlaintext(), "AES"),
                        new GCMParameterSpec(128, nonce));
                sealed = c.doFinal(message);
                keptBlob = dk.getCiphertextBlob();
            }
            try (DecryptResult dataKey = kms.advanceDecrypt(keptBlob)) {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(dataKey.getPlaintext(), "AES"),
                        new GCMParameterSpec(128, nonce));
                Check.bytes(message, c.doFinal(sealed), "envelope-decrypted message");
            }
        }
    }
}
