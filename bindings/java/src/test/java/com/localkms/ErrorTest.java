package com.localkms;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Every error class with its code and HTTP status, through KmsException. */
final class ErrorTest {
    @Test
    void testInvalidParameter() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            // Every algorithm, so that the block-mode cases reach the checks they are
            // about (a default key refuses AES_CBC / AES_ECB outright).
            String key = TestEnv.allAesKey(kms);
            KmsException e = Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("x"))
                            .iv(new byte[5]).build()));
            Check.contains(e.getMessage(), "Iv", "the message names the parameter");
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm("AES_XTS").build()));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_CBC)
                            .paddingMode("ZERO_PADDING").plaintext(TestEnv.utf8("x")).build()));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_ECB)
                            .paddingMode(PaddingMode.NO_PADDING).plaintext(new byte[17]).build()));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).algorithm(Algorithm.AES_CBC)
                            .aad(TestEnv.utf8("aad")).plaintext(TestEnv.utf8("x")).build()));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).aad(new byte[8193]).build()));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.updateRotationPolicy(key, true, "6d"));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.updateRotationPolicy(key, true, "weekly"));
        }
    }

    @Test
    void testMissingParameter() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                    () -> kms.advanceEncrypt(null, TestEnv.utf8("x")));
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                    () -> kms.decrypt(DecryptRequest.builder(new byte[32]).build()));
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400, () -> kms.describeKey(null));
            KmsException e = Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                    () -> kms.advanceDecrypt(new byte[0]));
            Check.contains(e.getMessage(), "CiphertextBlob", "the message names the parameter");
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400, () -> kms.rotateKey(null));
        }
    }

    @Test
    void testKeyNotFound() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            KmsException e = Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
                    () -> kms.advanceEncrypt("key-aaaaaaaaaaaaaaaaaaaaa", TestEnv.utf8("x")));
            Check.contains(e.toString(), "Forbidden.KeyNotFound", "toString");
            // A blob naming a version this store does not hold.
            byte[] foreign;
            try (LocalKms other = LocalKms.openInMemory()) {
                foreign = other.advanceEncrypt(other.createKey(), TestEnv.utf8("x")).getCiphertextBlob();
            }
            Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404, () -> kms.advanceDecrypt(foreign));
            Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
                    () -> kms.enableKey("key-bbbbbbbbbbbbbbbbbbbbb"));
        }
    }

    @Test
    void testAliasNotFound() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            Check.fails(KmsStatus.ALIAS_NOT_FOUND, "Forbidden.AliasNotFound", 404,
                    () -> kms.advanceEncrypt("alias/missing", TestEnv.utf8("x")));
        }
    }

    @Test
    void testOnlySymmetricKeySupported() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String ec = kms.createKey(CreateKeyRequest.builder().keySpec(CreateKeyRequest.EC_P256).build());
            Check.contains(kms.describeKey(ec), "SIGN/VERIFY", "default usage of an EC key");
            KmsException e = Check.fails(KmsStatus.ONLY_SYMMETRIC_KEY_SUPPORTED,
                    "Forbidden.OnlySymmetricKeySupported", 404,
                    () -> kms.advanceEncrypt(ec, TestEnv.utf8("x")));
            Check.equal("The key " + ec + " is not a symmetric key. The API only supports symmetric keys.",
                    e.getMessage(), "the service's message");
            Check.fails(KmsStatus.ONLY_SYMMETRIC_KEY_SUPPORTED, "Forbidden.OnlySymmetricKeySupported", 404,
                    () -> kms.generateDataKey(ec, 0, null));
        }
    }

    @Test
    void testDisabledPendingDeletionPendingImport() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            kms.disableKey(key);
            Check.fails(KmsStatus.KEY_DISABLED, "Rejected.Disabled", 409,
                    () -> kms.encrypt(key, TestEnv.utf8("x")));
            kms.enableKey(key);
            kms.scheduleKeyDeletion(key, 30);
            Check.fails(KmsStatus.KEY_PENDING_DELETION, "Rejected.PendingDeletion", 409,
                    () -> kms.encrypt(key, TestEnv.utf8("x")));
            Check.fails(KmsStatus.KEY_PENDING_DELETION, "Rejected.PendingDeletion", 409,
                    () -> kms.rotateKey(key));
            String external = kms.createKey(CreateKeyRequest.builder().origin("EXTERNAL").build());
            Check.fails(KmsStatus.KEY_PENDING_IMPORT, "Rejected.PendingImport", 409,
                    () -> kms.advanceGenerateDataKey(external, 0, null));
        }
    }

    @Test
    void testInvalidCiphertext() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            kms.createKey();
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(TestEnv.utf8("not a blob at all")));
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(new byte[] {'$', 0, 2}));
            // A GCM blob whose algorithm byte was changed, refused when AES_GCM is required.
            String key = kms.createKey();
            byte[] blob = kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(new byte[32]).build())
                    .getCiphertextBlob();
            blob[2] = 1;
            byte[] changed = blob;
            Check.fails(KmsStatus.INVALID_CIPHERTEXT, "InvalidCiphertext", 400,
                    () -> kms.advanceDecrypt(DecryptRequest.builder(changed).algorithm(Algorithm.AES_GCM).build()));
        }
    }

    @Test
    void testUnsupportedOperation() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.createKey(CreateKeyRequest.builder().keySpec("EC_SM2").build()));
            String ec = kms.createKey(CreateKeyRequest.builder().keySpec(CreateKeyRequest.EC_P256).build());
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.rotateKey(ec));
            String external = kms.createKey(CreateKeyRequest.builder().origin("EXTERNAL").build());
            kms.importKeyMaterial(external, TestEnv.randomBytes(32), 0);
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.rotateKey(external));
        }
    }

    /**
     * A key created without algorithms permits AES_GCM only: a block mode is
     * Rejected.UnsupportedOperation (HTTP 400) on every path, naming what the key
     * permits.
     */
    @Test
    void testBlockModeOnADefaultKey() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            KmsException e = Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.advanceEncrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("x"))
                            .algorithm(Algorithm.AES_CBC).build()));
            Check.equal(102, e.getStatusNumber(), "status number");
            Check.contains(e.getMessage(), "AES_GCM", "the message names what the key permits");
            Check.contains(e.getMessage(), key, "the message names the key");
            Check.contains(e.toString(), "Rejected.UnsupportedOperation", "toString");
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.encrypt(EncryptRequest.builder(key).plaintext(TestEnv.utf8("x"))
                            .algorithm("AES_ECB").build()));
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.decrypt(DecryptRequest.builder(new byte[16]).keyId(key).algorithm(Algorithm.AES_CBC)
                            .iv(new byte[16]).build()));
            Check.fails(KmsStatus.UNSUPPORTED_OPERATION, "Rejected.UnsupportedOperation", 400,
                    () -> kms.advanceDecrypt(DecryptRequest.builder(new byte[16]).keyId(key)
                            .algorithm(Algorithm.AES_ECB).build()));
        }
    }

    @Test
    void testAliasAlreadyExistsAndInvalidKeyMaterial() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            kms.createAlias("alias/one", key);
            Check.fails(KmsStatus.ALIAS_ALREADY_EXISTS, "AliasAlreadyExists", 400,
                    () -> kms.createAlias("alias/one", key));
            String external = kms.createKey(CreateKeyRequest.builder().origin("EXTERNAL").build());
            Check.fails(KmsStatus.INVALID_KEY_MATERIAL, "InvalidKeyMaterial", 400,
                    () -> kms.importKeyMaterial(external, new byte[31], 0));
        }
    }

    /** KeyStore.AccessDenied (403) for a wrong master key and for a readable master-key file. */
    @Test
    void testKeyStoreAccessDenied() throws Exception {
        Path dir = TestEnv.freshDir("access-denied");
        Path store = dir.resolve("keys.kms");
        Path rightKey = TestEnv.masterKeyFile(dir, TestEnv.randomBytes(32));
        Path wrongKey = TestEnv.masterKeyFile(dir, TestEnv.randomBytes(32));
        try (LocalKms kms = LocalKms.open(OpenOptions.builder().keystorePath(store).masterKeyFile(rightKey)
                .createIfMissing(true).build())) {
            kms.createKey();
        }
        byte[] before = Files.readAllBytes(store);
        KmsException e = Check.fails(KmsStatus.KEYSTORE_ACCESS_DENIED, "KeyStore.AccessDenied", 403,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(store).masterKeyFile(wrongKey).build()));
        Check.isTrue(!e.getMessage().isEmpty(), "message");
        Check.fails(KmsStatus.KEYSTORE_ACCESS_DENIED, "KeyStore.AccessDenied", 403,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(store)
                        .masterKey(TestEnv.randomBytes(32)).build()));
        Path readable = dir.resolve("readable.key");
        Files.write(readable, Files.readAllBytes(rightKey));
        Files.setPosixFilePermissions(readable, PosixFilePermissions.fromString("rw-r--r--"));
        Check.fails(KmsStatus.KEYSTORE_ACCESS_DENIED, "KeyStore.AccessDenied", 403,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(store).masterKeyFile(readable).build()));
        Check.bytes(before, Files.readAllBytes(store), "the store after failed opens");
    }

    /**
     * KeyStore.IOError (500) for a missing store; KeyStore.Corrupted (500) for a file
     * that is not one, and for a store with random bytes written over it.
     */
    @Test
    void testKeyStoreIoAndCorrupt() throws Exception {
        Path dir = TestEnv.freshDir("store-errors");
        Path key = TestEnv.masterKeyFile(dir, TestEnv.randomBytes(32));
        Check.fails(KmsStatus.KEYSTORE_IO, "KeyStore.IOError", 500,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(dir.resolve("missing.kms"))
                        .masterKeyFile(key).createIfMissing(false).build()));
        Path junk = dir.resolve("junk.kms");
        Files.write(junk, TestEnv.utf8("this is not a localkms store, just some text....................."
                + "..........................................."));
        Check.fails(KmsStatus.KEYSTORE_CORRUPT, "KeyStore.Corrupted", 500,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(junk).masterKeyFile(key).build()));
        // A real store with random bytes written over the whole file.
        Path damaged = dir.resolve("damaged.kms");
        try (LocalKms kms = LocalKms.open(OpenOptions.builder().keystorePath(damaged).masterKeyFile(key)
                .createIfMissing(true).build())) {
            kms.createKey();
        }
        Files.write(damaged, TestEnv.randomBytes((int) Files.size(damaged)));
        Check.fails(KmsStatus.KEYSTORE_CORRUPT, "KeyStore.Corrupted", 500,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(damaged).masterKeyFile(key).build()));
        Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(dir.resolve("x.kms"))
                        .masterKey(new byte[16]).createIfMissing(true).build()));
        Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(dir.resolve("y.kms"))
                        .createIfMissing(true).build()));
    }

    /**
     * OpenOptions.keystoreUrl reaches kms_open_options.keystore_url: with a path as
     * well it is the library's InvalidParameter (400), and a URL without a master
     * key is MissingParameter (an in-memory store, had the field been lost, would
     * open). The library refuses both before connecting: no PostgreSQL server needed.
     */
    @Test
    void testKeystorePathAndUrlTogether() throws Exception {
        Path dir = TestEnv.freshDir("path-and-url");
        Path store = dir.resolve("keys.kms");
        String url = "postgresql://localkms@%2Fnonexistent%2Fsocket/localkms";
        KmsException e = Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                () -> LocalKms.open(OpenOptions.builder().keystorePath(store).keystoreUrl(url)
                        .masterKey(TestEnv.randomBytes(32)).createIfMissing(true).build()));
        Check.contains(e.getMessage(), "keystore_url", "the refusal names the field");
        Check.isTrue(!Files.exists(store), "a refused open created the store");
        Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                () -> LocalKms.open(OpenOptions.builder().keystoreUrl(url).build()));
    }
}
