package com.localkms;

import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/** CreateKey options, key states, deletion, imported material, documents. */
final class KeyLifecycleTest {
    @Test
    void testCreateKeyOptionsAndDescribe() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            // Creation dates have one-second resolution: move the clock so that
            // "oldest first" is well defined.
            AtomicLong now = new AtomicLong(System.currentTimeMillis() / 1000L);
            kms.setClock(now::get);
            String key = kms.createKey(CreateKeyRequest.builder().keySpec(CreateKeyRequest.ALIYUN_AES_128)
                    .keyUsage("ENCRYPT/DECRYPT").origin(CreateKeyRequest.ORIGIN_ALIYUN_KMS)
                    .description("orders ✓").build());
            String doc = kms.describeKey(key);
            Check.contains(doc, "\"KeyMetadata\"", "DescribeKey");
            Check.contains(doc, key, "KeyId");
            Check.contains(doc, "Aliyun_AES_128", "KeySpec");
            Check.contains(doc, "ENCRYPT/DECRYPT", "KeyUsage");
            Check.contains(doc, "Aliyun_KMS", "Origin");
            Check.contains(doc, "orders ✓", "Description (UTF-8 both ways)");
            Check.contains(doc, "Enabled", "KeyState");
            Check.contains(doc, "\"RequestId\"", "RequestId");
            now.addAndGet(5);
            String defaults = kms.createKey();
            Check.contains(kms.describeKey(defaults), "Aliyun_AES_256", "default KeySpec");
            String keys = kms.listKeys();
            Check.contains(keys, key, "ListKeys");
            Check.contains(keys, defaults, "ListKeys");
            Check.isTrue(keys.indexOf(key) < keys.indexOf(defaults), "ListKeys oldest first");
        }
    }

    @Test
    void testDisableEnableScheduleCancel() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            byte[] blob = kms.advanceEncrypt(key, TestEnv.utf8("x")).getCiphertextBlob();
            kms.disableKey(key);
            Check.contains(kms.describeKey(key), "Disabled", "KeyState after DisableKey");
            Check.fails(KmsStatus.KEY_DISABLED, "Rejected.Disabled", 409,
                    () -> kms.advanceEncrypt(key, TestEnv.utf8("x")));
            Check.fails(KmsStatus.KEY_DISABLED, "Rejected.Disabled", 409, () -> kms.advanceDecrypt(blob));
            kms.enableKey(key);
            kms.enableKey(key); // an Enabled key stays so
            try (DecryptResult dec = kms.advanceDecrypt(blob)) {
                Check.bytes(TestEnv.utf8("x"), dec.getPlaintext(), "decrypt after EnableKey");
            }
            kms.scheduleKeyDeletion(key, 7);
            Check.contains(kms.describeKey(key), "PendingDeletion", "KeyState after ScheduleKeyDeletion");
            Check.contains(kms.describeKey(key), "DeleteDate", "DeleteDate");
            Check.fails(KmsStatus.KEY_PENDING_DELETION, "Rejected.PendingDeletion", 409,
                    () -> kms.advanceEncrypt(key, TestEnv.utf8("x")));
            kms.cancelKeyDeletion(key);
            Check.contains(kms.describeKey(key), "Enabled", "KeyState after CancelKeyDeletion");
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.scheduleKeyDeletion(key, 6));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.scheduleKeyDeletion(key, 367));
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.cancelKeyDeletion(key));
        }
    }

    /**
     * EXTERNAL keys: PendingImport until ImportKeyMaterial; the imported material
     * really is the key (a blob opens with the JDK's AES-GCM and that material).
     */
    @Test
    void testImportKeyMaterialAndBlobFormat() throws Exception {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey(CreateKeyRequest.builder().origin(CreateKeyRequest.ORIGIN_EXTERNAL).build());
            Check.contains(kms.describeKey(key), "PendingImport", "KeyState of a new EXTERNAL key");
            Check.fails(KmsStatus.KEY_PENDING_IMPORT, "Rejected.PendingImport", 409,
                    () -> kms.advanceEncrypt(key, TestEnv.utf8("x")));
            byte[] material = TestEnv.randomBytes(32);
            Check.fails(KmsStatus.INVALID_KEY_MATERIAL, "InvalidKeyMaterial", 400,
                    () -> kms.importKeyMaterial(key, Arrays.copyOf(material, 16), 0));
            kms.importKeyMaterial(key, material, 0);
            Check.contains(kms.describeKey(key), "Enabled", "KeyState after import");
            kms.importKeyMaterial(key, material, 0); // the same material again: accepted
            Check.fails(KmsStatus.INVALID_KEY_MATERIAL, "InvalidKeyMaterial", 400,
                    () -> kms.importKeyMaterial(key, TestEnv.randomBytes(32), 0));

            byte[] aad = TestEnv.utf8("aad");
            byte[] plaintext = TestEnv.utf8("opened by the JDK");
            byte[] blob = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(plaintext).aad(aad)
                    .build()).getCiphertextBlob();
            // '$' | version/padding | algorithm | KeyVersionId (36) | IV (12) | ciphertext || tag
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(material, "AES"),
                    new GCMParameterSpec(128, Arrays.copyOfRange(blob, 39, 51)));
            c.updateAAD(aad);
            Check.bytes(plaintext, c.doFinal(Arrays.copyOfRange(blob, 51, blob.length)), "JDK decrypts the blob");
            Arrays.fill(material, (byte) 0);

            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.rotateKey(key));
            String plain = kms.createKey();
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.importKeyMaterial(plain, TestEnv.randomBytes(32), 0));
        }
    }

    /**
     * The expiry argument (a long of Unix seconds) reaches the library; what
     * expiry then does is tests/service_behaviour.rs (external_keys_import_expiry_and_reimport).
     */
    @Test
    void testImportedMaterialExpiryArgument() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            kms.setClock(() -> 1_893_456_000L); // 2030-01-01T00:00:00Z
            String key = kms.createKey(CreateKeyRequest.builder().keySpec("Aliyun_AES_192")
                    .origin("EXTERNAL").build());
            byte[] material = TestEnv.randomBytes(24);
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.importKeyMaterial(key, material, 1_893_456_000L - 10));
            kms.importKeyMaterial(key, material, 1_893_456_000L + 86_400L);
            Check.contains(kms.describeKey(key), "\"MaterialExpireTime\":\"2030-01-02T00:00:00Z\"",
                    "MaterialExpireTime");
        }
    }
}
