package com.localkms;

import org.junit.jupiter.api.Test;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The C ABI's two int flags ({@code kms_open_options.create_if_missing} and
 * {@code kms_update_rotation_policy}'s {@code enable_automatic_rotation}) with
 * both values, on file-backed stores reopened after every change: a flag read
 * wrongly, or a raw flag value persisted, shows up as the wrong policy, a store
 * that is not created, or one that no longer opens (KeyStore.Corrupted). Also
 * the raw JNA methods with flags other than 0 and 1 (-1, which is what JNA makes
 * of a Java {@code true}, and 2): the header says any non-zero value is true.
 */
final class FlagsTest {
    private static final String ENABLED = "\"AutomaticRotation\":\"Enabled\"";
    private static final String DISABLED = "\"AutomaticRotation\":\"Disabled\"";
    private static final String THIRTY_DAYS = "\"RotationInterval\":\"2592000s\"";

    private static LocalKms open(Path store, byte[] master, boolean createIfMissing) {
        return LocalKms.open(OpenOptions.builder().keystorePath(store).masterKey(master)
                .createIfMissing(createIfMissing).build());
    }

    @Test
    void testCreateIfMissingBothValues() throws Exception {
        Path dir = TestEnv.freshDir("create-flag");
        Path store = dir.resolve("keys.kms");
        byte[] master = TestEnv.randomBytes(32);
        Check.fails(KmsStatus.KEYSTORE_IO, "KeyStore.IOError", 500, () -> open(store, master, false));
        Check.isTrue(!Files.exists(store), "createIfMissing(false) created the store");
        String key;
        try (LocalKms kms = open(store, master, true)) {
            key = kms.createKey();
        }
        Check.isTrue(Files.isRegularFile(store), "createIfMissing(true) did not create the store");
        for (boolean create : new boolean[] {false, true}) { // an existing store opens as it is
            try (LocalKms kms = open(store, master, create)) {
                Check.contains(kms.listKeys(), key, "ListKeys after reopening, createIfMissing(" + create + ")");
                Check.contains(kms.listKeys(), "\"TotalCount\":1", "one key, createIfMissing(" + create + ")");
            }
        }
    }

    @Test
    void testRotationFlagBothValuesPersist() throws Exception {
        Path dir = TestEnv.freshDir("rotation-flag");
        Path store = dir.resolve("keys.kms");
        byte[] master = TestEnv.randomBytes(32);
        String key;
        try (LocalKms kms = open(store, master, true)) {
            key = kms.createKey(CreateKeyRequest.builder().description("flags").build());
            Check.contains(kms.describeKey(key), DISABLED, "a new key");
            kms.updateRotationPolicy(key, true, "30d");
            String doc = kms.describeKey(key);
            Check.contains(doc, ENABLED, "after enabling");
            Check.contains(doc, THIRTY_DAYS, "after enabling");
            Check.contains(doc, "NextRotationDate", "after enabling");
        }
        try (LocalKms kms = open(store, master, false)) { // persisted, and the store opens
            String doc = kms.describeKey(key);
            Check.contains(doc, ENABLED, "after enabling and reopening");
            Check.contains(doc, THIRTY_DAYS, "after enabling and reopening");
            Check.contains(doc, "\"Description\":\"flags\"", "after enabling and reopening");
            kms.updateRotationPolicy(key, false, null);
            doc = kms.describeKey(key);
            Check.contains(doc, DISABLED, "after disabling");
            Check.isTrue(!doc.contains("NextRotationDate"), "NextRotationDate after disabling: " + doc);
        }
        try (LocalKms kms = open(store, master, false)) {
            Check.contains(kms.describeKey(key), DISABLED, "after disabling and reopening");
            kms.updateRotationPolicy(key, true, null); // no interval: the persisted 30 days
        }
        try (LocalKms kms = open(store, master, false)) {
            String doc = kms.describeKey(key);
            Check.contains(doc, ENABLED, "after re-enabling and reopening");
            Check.contains(doc, THIRTY_DAYS, "after re-enabling and reopening");
        }
    }

    /** Raw JNA: -1 and 2 for both int flags are read as true, and what is stored is a proper policy. */
    @Test
    void testRawNativeFlagsAnyNonZeroIsTrue() throws Exception {
        NativeLib lib = NativeLib.INSTANCE;
        Path dir = TestEnv.freshDir("raw-flags");
        byte[] master = TestEnv.randomBytes(32);

        Path absent = dir.resolve("absent.kms");
        NativeLib.KmsError err = new NativeLib.KmsError();
        Check.isTrue(rawOpen(absent, master, 0, err, false) == null,
                "kms_client_open of a missing file with create_if_missing 0 succeeded");
        Check.equal(KmsStatus.KEYSTORE_IO.number(), err.status, "kms_error.status, create_if_missing 0");
        Check.isTrue(!Files.exists(absent), "create_if_missing 0 created the store");

        for (int createFlag : new int[] {-1, 2}) {
            Path store = dir.resolve("flag" + (createFlag < 0 ? "minus" : "") + Math.abs(createFlag) + ".kms");
            Pointer h = rawOpen(store, master, createFlag, new NativeLib.KmsError(), true);
            String key;
            try {
                Check.isTrue(Files.isRegularFile(store), "create_if_missing " + createFlag + " created no store");
                PointerByReference out = new PointerByReference();
                NativeLib.KmsError e = new NativeLib.KmsError();
                Check.equal(0, lib.kms_create_key(h, null, null, null, null, out, e), "kms_create_key: " + text(e));
                key = take(out);
                for (int enable : new int[] {-1, 2}) {
                    e = new NativeLib.KmsError();
                    Check.equal(0, lib.kms_update_rotation_policy(h, key, enable, "30d", e),
                            "kms_update_rotation_policy(" + enable + "): " + text(e));
                    String doc = rawDescribe(h, key);
                    Check.contains(doc, ENABLED, "enable_automatic_rotation " + enable);
                    Check.contains(doc, THIRTY_DAYS, "enable_automatic_rotation " + enable);
                    Check.equal(0, lib.kms_update_rotation_policy(h, key, 0, null, e),
                            "kms_update_rotation_policy(0): " + text(e));
                    Check.contains(rawDescribe(h, key), DISABLED, "enable_automatic_rotation 0");
                }
                Check.equal(0, lib.kms_update_rotation_policy(h, key, 2, null, e),
                        "kms_update_rotation_policy(2, NULL): " + text(e));
            } finally {
                lib.kms_client_free(h);
            }
            // The store the raw flags wrote opens (no KeyStore.Corrupted) with the policy on.
            try (LocalKms kms = open(store, master, false)) {
                String doc = kms.describeKey(key);
                Check.contains(doc, ENABLED, "reopened after raw flags " + createFlag);
                Check.contains(doc, THIRTY_DAYS, "reopened after raw flags " + createFlag);
            }
            // And a raw non-zero create_if_missing on the existing file opens it as it is.
            h = rawOpen(store, master, createFlag, new NativeLib.KmsError(), true);
            try {
                Check.contains(rawDescribe(h, key), ENABLED, "raw reopen with create_if_missing " + createFlag);
            } finally {
                lib.kms_client_free(h);
            }
        }
    }

    /** kms_client_open with a raw create_if_missing; null on failure (then {@code err} is filled). */
    private static Pointer rawOpen(Path store, byte[] master, int createIfMissing, NativeLib.KmsError err,
            boolean mustSucceed) {
        byte[] path = (store.toString() + "\0").getBytes(StandardCharsets.UTF_8);
        try (Memory pathMem = new Memory(path.length); Memory keyMem = new Memory(master.length)) {
            pathMem.write(0, path, 0, path.length);
            keyMem.write(0, master, 0, master.length);
            NativeLib.OpenOptionsStruct options = new NativeLib.OpenOptionsStruct();
            options.keystore_path = pathMem;
            options.master_key = keyMem;
            options.master_key_len = new NativeLib.SizeT(master.length);
            options.create_if_missing = createIfMissing;
            PointerByReference out = new PointerByReference();
            int status = NativeLib.INSTANCE.kms_client_open(options, out, err);
            keyMem.clear();
            if (status != 0) {
                Check.isTrue(!mustSucceed, "kms_client_open(create_if_missing " + createIfMissing + "): " + text(err));
                return null;
            }
            return out.getValue();
        }
    }

    private static String rawDescribe(Pointer h, String key) {
        PointerByReference out = new PointerByReference();
        NativeLib.KmsError e = new NativeLib.KmsError();
        Check.equal(0, NativeLib.INSTANCE.kms_describe_key(h, key, out, e), "kms_describe_key: " + text(e));
        return take(out);
    }

    /** Copies a library string and frees it with kms_string_free. */
    private static String take(PointerByReference out) {
        Pointer p = out.getValue();
        try {
            return p.getString(0, StandardCharsets.UTF_8.name());
        } finally {
            NativeLib.INSTANCE.kms_string_free(p);
        }
    }

    private static String text(NativeLib.KmsError e) {
        return e.status + " " + com.sun.jna.Native.toString(e.code, StandardCharsets.UTF_8) + ": "
                + com.sun.jna.Native.toString(e.message, StandardCharsets.UTF_8);
    }
}
