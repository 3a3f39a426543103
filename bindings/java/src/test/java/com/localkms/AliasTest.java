package com.localkms;

import org.junit.jupiter.api.Test;

/** CreateAlias, UpdateAlias, DeleteAlias, ListAliases; aliases wherever a KeyId is. */
final class AliasTest {
    @Test
    void testAliasLifecycle() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String k1 = kms.createKey();
            String k2 = kms.createKey();
            kms.createAlias("alias/app", k1);
            EncryptResult enc = kms.advanceEncrypt("alias/app", TestEnv.utf8("via alias"));
            Check.equal(k1, enc.getKeyId(), "an alias resolves to the real KeyId");
            Check.contains(kms.describeKey("alias/app"), k1, "DescribeKey by alias");
            Check.contains(kms.listKeyVersions("alias/app"), k1, "ListKeyVersions by alias");

            // An alias may be made from another alias.
            kms.createAlias("alias/app/second", "alias/app");
            Check.equal(k1, kms.advanceEncrypt("alias/app/second", TestEnv.utf8("x")).getKeyId(),
                    "alias of an alias");

            String list = kms.listAliases();
            Check.contains(list, "alias/app", "ListAliases");
            Check.contains(list, "alias/app/second", "ListAliases");

            kms.updateAlias("alias/app", k2);
            Check.equal(k2, kms.advanceEncrypt("alias/app", TestEnv.utf8("x")).getKeyId(),
                    "UpdateAlias moved the alias");
            // Old blobs name their version, not the alias: still decrypt.
            try (DecryptResult dec = kms.advanceDecrypt(enc.getCiphertextBlob())) {
                Check.equal(k1, dec.getKeyId(), "old blob after UpdateAlias");
            }
            String rotated = kms.rotateKey("alias/app");
            Check.isTrue(rotated.startsWith(k2 + "-"), "rotateKey by alias rotates the named key");

            kms.deleteAlias("alias/app");
            Check.fails(KmsStatus.ALIAS_NOT_FOUND, "Forbidden.AliasNotFound", 404,
                    () -> kms.advanceEncrypt("alias/app", TestEnv.utf8("x")));
            Check.fails(KmsStatus.ALIAS_NOT_FOUND, "Forbidden.AliasNotFound", 404,
                    () -> kms.deleteAlias("alias/app"));
            Check.fails(KmsStatus.ALIAS_NOT_FOUND, "Forbidden.AliasNotFound", 404,
                    () -> kms.updateAlias("alias/never", k1));
            Check.isTrue(!kms.listAliases().contains("\"alias/app\""), "deleted alias still listed");
        }
    }

    @Test
    void testAliasErrors() {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = kms.createKey();
            kms.createAlias("alias/taken", key);
            Check.fails(KmsStatus.ALIAS_ALREADY_EXISTS, "AliasAlreadyExists", 400,
                    () -> kms.createAlias("alias/taken", key));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.createAlias("alias/acs-reserved", key));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.createAlias("no-prefix", key));
            Check.fails(KmsStatus.INVALID_PARAMETER, "InvalidParameter", 400,
                    () -> kms.createAlias("alias/has space", key));
            Check.fails(KmsStatus.MISSING_PARAMETER, "MissingParameter", 400,
                    () -> kms.createAlias(null, key));
            // A failed call changes nothing.
            String before = kms.listAliases().replaceAll("\"RequestId\"\\s*:\\s*\"[^\"]*\"", "");
            Check.fails(KmsStatus.KEY_NOT_FOUND, "Forbidden.KeyNotFound", 404,
                    () -> kms.createAlias("alias/new", "key-aaaaaaaaaaaaaaaaaaaaa"));
            String after = kms.listAliases().replaceAll("\"RequestId\"\\s*:\\s*\"[^\"]*\"", "");
            Check.equal(before, after, "aliases after a failed CreateAlias");
        }
    }
}
