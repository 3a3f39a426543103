package com.localkms;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@link CreateKeyRequest}'s options through {@code kms_create_key_with_options},
 * and a mirrored cloud key through {@link LocalKms#importKeyVersion}, with blobs
 * made and opened by javax.crypto's AES/GCM/NoPadding standing in for the cloud.
 */
final class CreateKeyOptionsTest {
    private static final String CLOUD_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
    private static final String CLOUD_VERSION_ID = "2ab1a983-7072-4bbc-a582-584b5bd80ab1";
    private static final String CLOUD_VERSION_2 = "3bc2b094-8183-4ccd-b693-695c6ce91bc2";

    private static void checkDefaults(LocalKms kms, String key, String what) {
        Check.matches(Check.KEY_ID, key, what + ": KeyId");
        String meta = kms.describeKey(key);
        for (String field : new String[] {"\"KeySpec\":\"Aliyun_AES_256\"", "\"KeyUsage\":\"ENCRYPT/DECRYPT\"",
                "\"Origin\":\"Aliyun_KMS\"", "\"Description\":\"\"", "\"KeyState\":\"Enabled\""}) {
            Check.contains(meta, field, what + ": DescribeKey");
        }
        Check.equal("AES_GCM", kms.advanceEncrypt(key, TestEnv.utf8("x")).getAlgorithm(), what + ": algorithm");
        Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_CBC).build()));
    }

    /** Options left null (or an empty algorithm list) are NULL: the library's defaults. */
    @Test
    void testNullOptionsAreTheDefaults() {
        NativeLib.CreateKeyOptionsStruct s = new NativeLib.CreateKeyOptionsStruct();
        Check.isTrue(s.key_spec == null && s.key_usage == null && s.origin == null && s.description == null
                && s.key_id == null && s.algorithms == null, "a new options Structure is all NULL");
        Check.equal(null, CreateKeyRequest.builder().algorithms(List.of()).build().algorithms(),
                "an empty algorithm list");
        Check.equal(null, CreateKeyRequest.builder().build().keyId(), "no KeyId");
        try (LocalKms kms = LocalKms.openInMemory()) {
            checkDefaults(kms, kms.createKey(), "createKey()");
            checkDefaults(kms, kms.createKey(CreateKeyRequest.builder().keySpec(null).keyUsage(null).origin(null)
                    .description(null).keyId(null).algorithms((List<String>) null).build()), "every option null");
            checkDefaults(kms, kms.createKey(CreateKeyRequest.builder().algorithms(List.of()).build()),
                    "no algorithms");
        }
    }

    /** Every option reaches its own field of the C struct. */
    @Test
    void testEveryOptionReachesTheLibrary() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String sm4 = kms.createKey(CreateKeyRequest.builder().keySpec(CreateKeyRequest.ALIYUN_SM4)
                    .keyUsage("ENCRYPT/DECRYPT").description("an SM4 key \u00e9")
                    .algorithms(Algorithm.SM4_GCM, Algorithm.SM4_CBC).build());
            String meta = kms.describeKey(sm4);
            Check.contains(meta, "\"KeySpec\":\"Aliyun_SM4\"", "KeySpec");
            Check.contains(meta, "\"Description\":\"an SM4 key \u00e9\"", "Description");
            EncryptResult sm4Gcm = kms.advanceEncrypt(sm4, TestEnv.utf8("sm4"));
            Check.equal("SM4_GCM", sm4Gcm.getAlgorithm(), "an SM4 key's default algorithm");
            Check.equal(4, (int) sm4Gcm.getCiphertextBlob()[2], "SM4_GCM's blob byte");
            EncryptResult cbc = kms.advanceEncrypt(EncryptRequest.builder(sm4).plaintext(TestEnv.utf8("sm4"))
                    .algorithm(Algorithm.SM4_CBC).build());
            Check.equal(5, (int) cbc.getCiphertextBlob()[2], "SM4_CBC's blob byte");
            try (DecryptResult dec = kms.advanceDecrypt(cbc.getCiphertextBlob())) {
                Check.bytes(TestEnv.utf8("sm4"), dec.getPlaintext(), "SM4_CBC round trip");
                Check.equal("SM4_CBC", dec.getAlgorithm(), "SM4_CBC decrypted");
            }
            KmsException e = Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(sm4).algorithm(Algorithm.SM4_ECB).build()));
            Check.contains(e.getMessage(), "SM4_CBC", "the message names what the key permits");

            String mirrored = kms.createKey(CreateKeyRequest.builder().origin(CreateKeyRequest.ORIGIN_EXTERNAL)
                    .keyId("Mirrored-Key-01").build());
            Check.equal("Mirrored-Key-01", mirrored, "the chosen KeyId");
            Check.contains(kms.describeKey(mirrored), "\"Origin\":\"EXTERNAL\"", "Origin");
            Check.contains(kms.describeKey(mirrored), "\"KeyState\":\"PendingImport\"", "KeyState");

            // The library's refusals, each with a RequestId.
            for (CreateKeyRequest bad : List.of(
                    CreateKeyRequest.builder().keyId("not-external").build(),
                    CreateKeyRequest.builder().origin("EXTERNAL").keyId("no spaces").build(),
                    CreateKeyRequest.builder().origin("EXTERNAL").keyId(mirrored).build(),
                    CreateKeyRequest.builder().algorithms("AES_GCM", "SM4_CBC").build(),
                    CreateKeyRequest.builder().algorithms("AES_XTS").build())) {
                Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400, () -> kms.createKey(bad));
            }
        }
    }

    /** String..., Algorithm... and a Collection make the same comma list. */
    @Test
    void testAlgorithmsBuilderForms() {
        Check.equal("AES_GCM,AES_CBC", CreateKeyRequest.builder().algorithms("AES_GCM", "AES_CBC").build()
                .algorithms(), "String...");
        Check.equal("AES_GCM,AES_CBC", CreateKeyRequest.builder().algorithms(Algorithm.AES_GCM, Algorithm.AES_CBC)
                .build().algorithms(), "Algorithm...");
        Check.equal("AES_GCM,AES_CBC", CreateKeyRequest.builder().algorithms(List.of("AES_GCM", "AES_CBC"))
                .build().algorithms(), "Collection");
        Check.equal("AES_GCM,AES_ECB", CreateKeyRequest.builder().algorithms("AES_GCM,AES_ECB").build()
                .algorithms(), "a comma list in one string");
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey(CreateKeyRequest.builder().algorithms(Algorithm.AES_GCM, Algorithm.AES_CBC)
                    .build());
            Check.equal("AES_CBC", kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_CBC)
                    .build()).getAlgorithm(), "a permitted block mode");
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_ECB).build()));
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    private static byte[] gcm(int mode, byte[] key, byte[] iv, byte[] aad, byte[] input) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
        if (aad != null) {
            c.updateAAD(aad);
        }
        return c.doFinal(input);
    }

    /**
     * A mirror of a cloud key: the cloud's UUID-form KeyId and a cloud-style
     * 36-character KeyVersionId, its material imported with importKeyVersion, and
     * ciphertext made by javax.crypto (the cloud's side) opened through the
     * binding as the '$' blob and in the gateway form; and the other way round.
     */
    @Test
    void testMirroredCloudKeyWithJavaxCrypto() throws Exception {
        Check.equal(36, CLOUD_VERSION_ID.length(), "the test's KeyVersionId");
        byte[] material = TestEnv.randomBytes(32);
        try (LocalKms kms = LocalKms.openInMemory()) {
            Check.equal(CLOUD_KEY_ID, kms.createKey(CreateKeyRequest.builder().origin("EXTERNAL")
                    .keyId(CLOUD_KEY_ID).build()), "the mirrored KeyId");

            // Refusals map to KmsException with the library's status.
            Check.fails(KmsStatus.INVALID_KEY_MATERIAL, "InvalidKeyMaterial", 400,
                    () -> kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_ID, Arrays.copyOf(material, 31), 0));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.importKeyVersion(CLOUD_KEY_ID, "not 36 characters", material, 0));
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                    () -> kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_ID, null, 0));
            Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
                    () -> kms.importKeyVersion("key-aaaaaaaaaaaaaaaaaaaaa", CLOUD_VERSION_ID, material, 0));

            byte[] copy = material.clone();
            kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_ID, copy, 0);
            Check.bytes(material, copy, "the caller's material is left alone");
            String versions = kms.listKeyVersions(CLOUD_KEY_ID);
            Check.contains(versions, "\"KeyVersionId\":\"" + CLOUD_VERSION_ID + "\"", "ListKeyVersions");
            Check.contains(versions, "\"TotalCount\":1", "one version");
            Check.contains(kms.describeKey(CLOUD_KEY_ID), "\"PrimaryKeyVersion\":\"" + CLOUD_VERSION_ID + "\"",
                    "PrimaryKeyVersion");

            // '$' | 0x00 | 0x02 (AES_GCM) | KeyVersionId | Iv | ciphertext || tag, made by javax.crypto.
            byte[] plaintext = TestEnv.utf8("sealed by the cloud");
            byte[] aad = TestEnv.utf8("tenant=7");
            byte[] iv = TestEnv.randomBytes(12);
            byte[] blob = concat(new byte[] {'$', 0x00, 0x02}, CLOUD_VERSION_ID.getBytes(StandardCharsets.US_ASCII),
                    iv, gcm(Cipher.ENCRYPT_MODE, material, iv, aad, plaintext));
            byte[] gateway = Arrays.copyOfRange(blob, 3, blob.length);
            List<DecryptRequest> requests = List.of(
                    DecryptRequest.builder(blob).aad(aad).build(),
                    DecryptRequest.builder(gateway).aad(aad).build(),
                    // As Alibaba's SDKs call it: Iv = the gateway form's bytes 36 to 48, ignored.
                    DecryptRequest.builder(gateway).iv(Arrays.copyOfRange(gateway, 36, 48)).aad(aad).build());
            for (DecryptRequest request : requests) {
                try (DecryptResult dec = kms.advanceDecrypt(request)) {
                    Check.bytes(plaintext, dec.getPlaintext(), "the cloud's blob");
                    Check.equal(CLOUD_KEY_ID, dec.getKeyId(), "KeyId");
                    Check.equal(CLOUD_VERSION_ID, dec.getKeyVersionId(), "KeyVersionId");
                    Check.equal("AES_GCM", dec.getAlgorithm(), "algorithm");
                    Check.equal("", dec.getPaddingMode(), "padding mode");
                }
            }
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(DecryptRequest.builder(gateway).aad(TestEnv.utf8("tenant=8")).build()));

            // The other way: the library's blob and bare ciphertext open with javax.crypto.
            EncryptResult enc = kms.advanceEncrypt(EncryptRequest.builder(CLOUD_KEY_ID).plaintext(plaintext)
                    .aad(aad).build());
            Check.equal(CLOUD_VERSION_ID, enc.getKeyVersionId(), "AdvanceEncrypt's version");
            byte[] b = enc.getCiphertextBlob();
            Check.equal(CLOUD_VERSION_ID, new String(b, 3, 36, StandardCharsets.US_ASCII), "the blob's version");
            Check.bytes(plaintext, gcm(Cipher.DECRYPT_MODE, material, enc.getIv(), aad,
                    Arrays.copyOfRange(b, 39 + 12, b.length)), "javax.crypto opening the library's blob");
            EncryptResult bare = kms.encrypt(CLOUD_KEY_ID, plaintext);
            Check.bytes(plaintext, gcm(Cipher.DECRYPT_MODE, material, bare.getIv(), null, bare.getCiphertextBlob()),
                    "javax.crypto opening Encrypt output");

            // A second cloud version with an expiry: primary from now on; the first still opens.
            byte[] material2 = TestEnv.randomBytes(32);
            long expire = System.currentTimeMillis() / 1000L + 2 * 86400L;
            kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_2, material2, expire);
            String meta = kms.describeKey(CLOUD_KEY_ID);
            Check.contains(meta, "\"PrimaryKeyVersion\":\"" + CLOUD_VERSION_2 + "\"", "the second version is primary");
            Check.contains(meta, "\"MaterialExpireTime\":\"" + java.time.Instant.ofEpochSecond(expire) + "\"",
                    "MaterialExpireTime");
            EncryptResult enc2 = kms.advanceEncrypt(CLOUD_KEY_ID, plaintext);
            Check.equal(CLOUD_VERSION_2, enc2.getKeyVersionId(), "AdvanceEncrypt after the second import");
            byte[] b2 = enc2.getCiphertextBlob();
            Check.bytes(plaintext, gcm(Cipher.DECRYPT_MODE, material2, enc2.getIv(), null,
                    Arrays.copyOfRange(b2, 39 + 12, b2.length)), "javax.crypto opening the second version's blob");
            try (DecryptResult dec = kms.advanceDecrypt(DecryptRequest.builder(blob).aad(aad).build())) {
                Check.equal(CLOUD_VERSION_ID, dec.getKeyVersionId(), "the first version's blob");
            }
            Check.fails(KmsStatus.INVALID_KEY_MATERIAL, "InvalidKeyMaterial", 400,
                    () -> kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_ID, material2, 0));
            kms.importKeyVersion(CLOUD_KEY_ID, CLOUD_VERSION_ID, material, 0); // the same again
            kms.importKeyVersion(CLOUD_KEY_ID, null, TestEnv.randomBytes(32), 0); // null: a fresh id
            Check.contains(kms.listKeyVersions(CLOUD_KEY_ID), "\"TotalCount\":3", "three versions");
            Arrays.fill(material2, (byte) 0);
        } finally {
            Arrays.fill(material, (byte) 0);
        }
    }
}
