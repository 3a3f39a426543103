package com.localkms;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Java and C share one file-backed store (keystore_path + a master-key file of
 * mode 0600) and exchange blobs as files: a blob made in C decrypts in Java and
 * the other way round.
 */
final class InteropTest {
    @Test
    void testBlobsCrossBetweenJavaAndC() throws Exception {
        Path dir = TestEnv.freshDir("interop");
        Path store = dir.resolve("shared.kms");
        Path masterKey = TestEnv.masterKeyFile(dir, TestEnv.randomBytes(32));
        Check.equal("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(masterKey)), "master-key file mode");
        String s = store.toString();
        String m = masterKey.toString();

        try (LocalKms kms = LocalKms.open(OpenOptions.builder().keystorePath(store).masterKeyFile(masterKey)
                .createIfMissing(true).build())) {
            String key = TestEnv.allAesKey(kms); // C encrypts with every algorithm below
            kms.createAlias("alias/interop", key);

            // Java -> C, AES_GCM with Aad.
            byte[] javaPlain = TestEnv.utf8("made in Java, read in C \u00e9\u4e2d");
            EncryptResult enc = kms.advanceEncrypt(EncryptRequest.builder("alias/interop").plaintext(javaPlain)
                    .aad(TestEnv.utf8("interop-aad")).build());
            Path javaBlob = dir.resolve("java.blob");
            Files.write(javaBlob, enc.getCiphertextBlob());
            Path cOut = dir.resolve("java.blob.plain");
            TestEnv.Run run = TestEnv.runInterop(false, "decrypt", s, m, javaBlob.toString(), cOut.toString(),
                    "--aad", "interop-aad");
            Check.bytes(javaPlain, Files.readAllBytes(cOut), "C decrypted the Java blob");
            Check.equal(enc.getKeyVersionId(), run.stdout, "C names the Java blob's version");
            TestEnv.Run wrongAad = TestEnv.runInterop(true, "decrypt", s, m, javaBlob.toString(), cOut.toString());
            Check.equal(1, wrongAad.exitCode, "C without the Aad");
            Check.contains(wrongAad.stderr, "InvalidCiphertext", "C's error without the Aad");

            // C -> Java, each algorithm.
            for (String algorithm : new String[] {"AES_GCM", "AES_CBC", "AES_ECB"}) {
                byte[] cPlain = TestEnv.utf8("made in C with " + algorithm + ", read in Java");
                Path in = dir.resolve("c-" + algorithm + ".plain");
                Files.write(in, cPlain);
                Path cBlob = dir.resolve("c-" + algorithm + ".blob");
                TestEnv.Run c = TestEnv.runInterop(false, "encrypt", s, m, "alias/interop", in.toString(),
                        cBlob.toString(), "--algorithm", algorithm);
                try (DecryptResult dec = kms.advanceDecrypt(Files.readAllBytes(cBlob))) {
                    Check.bytes(cPlain, dec.getPlaintext(), "Java decrypted the C blob (" + algorithm + ")");
                    Check.equal(c.stdout, dec.getKeyVersionId(), "version of the C blob");
                    Check.equal(algorithm, dec.getAlgorithm(), "algorithm of the C blob");
                    Check.equal(key, dec.getKeyId(), "key of the C blob");
                }
            }

            // A rotation made in Java is seen by the C process; its blob opens in Java.
            String v2 = kms.rotateKey(key);
            Path in = dir.resolve("after-rotation.plain");
            Files.write(in, TestEnv.utf8("after rotation"));
            Path cBlob = dir.resolve("after-rotation.blob");
            TestEnv.Run c = TestEnv.runInterop(false, "encrypt", s, m, key, in.toString(), cBlob.toString(),
                    "--algorithm", "AES_GCM", "--aad", "ctx");
            Check.equal(v2, c.stdout, "C encrypts with the version Java made");
            try (DecryptResult dec = kms.advanceDecrypt(DecryptRequest.builder(Files.readAllBytes(cBlob))
                    .aad(TestEnv.utf8("ctx")).build())) {
                Check.bytes(TestEnv.utf8("after rotation"), dec.getPlaintext(), "C blob after rotation");
                Check.equal(v2, dec.getKeyVersionId(), "C blob after rotation names v2");
            }
        }

        // A second Java client on the same files still opens the first Java blob.
        try (LocalKms again = LocalKms.open(OpenOptions.builder().keystorePath(s).masterKeyFile(m).build());
                DecryptResult dec = again.advanceDecrypt(DecryptRequest.builder(
                        Files.readAllBytes(dir.resolve("java.blob"))).aad(TestEnv.utf8("interop-aad")).build())) {
            Check.bytes(TestEnv.utf8("made in Java, read in C \u00e9\u4e2d"), dec.getPlaintext(),
                    "reopened store");
        }

        // The C program with a wrong master key: KeyStore.AccessDenied.
        Path wrong = TestEnv.masterKeyFile(dir, TestEnv.randomBytes(32));
        TestEnv.Run denied = TestEnv.runInterop(true, "decrypt", s, wrong.toString(),
                dir.resolve("java.blob").toString(), dir.resolve("x").toString());
        Check.equal(1, denied.exitCode, "C with a wrong master key");
        Check.contains(denied.stderr, "KeyStore.AccessDenied", "C's error with a wrong master key");
    }
}
