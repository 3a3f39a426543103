// Over 400 lines because LocalKms has one method per function of
// include/localkms.h (about thirty, with their overloads and Javadoc); the
// requests, results and JNA declarations are in their own files.
package com.localkms;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A client of localkms: one {@code kms_client} handle on one key store (in
 * memory, or a file that several clients and processes may share).
 *
 * <pre>{@code
 * try (LocalKms kms = LocalKms.openInMemory()) {
 *     String keyId = kms.createKey();
 *     kms.createAlias("alias/app", keyId);
 *     EncryptResult enc = kms.advanceEncrypt(EncryptRequest.builder("alias/app")
 *             .plaintext("secret".getBytes(StandardCharsets.UTF_8)).build());
 *     try (DecryptResult dec = kms.advanceDecrypt(enc.getCiphertextBlob())) {
 *         use(dec.getPlaintext());          // wiped when dec is closed
 *     }
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> One client may be used from any number of threads at once;
 * calls run in parallel (the library encrypts and decrypts without a lock).
 * {@link #close()} and {@link #setClock} wait for the calls that are running and
 * keep new ones out while they work, so closing never frees the handle under a
 * running call; a call after {@code close} throws {@link IllegalStateException}.
 *
 * <p><b>Errors.</b> Every failed call throws {@link KmsException} with the
 * library's status, code, HTTP status, message and RequestId. A failed call
 * changes nothing.
 *
 * <p><b>Memory.</b> Every buffer the library returns is copied into Java and
 * freed with its {@code kms_*_free} function before the method returns, whatever
 * happens. Secrets this wrapper hands to the library (plaintext, key material,
 * master key) go through native buffers that it zeroes afterwards. Secrets it
 * returns ({@link DecryptResult#getPlaintext()}, {@link DataKeyResult#getPlaintext()})
 * are the caller's to wipe.
 *
 * <p><b>Leaks.</b> Close every client. A client that becomes unreachable unclosed
 * is freed by a {@link Cleaner} as a safety net, at a time nobody controls.
 */
public final class LocalKms implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final State state;
    private final Cleaner.Cleanable cleanable;

    /**
     * What must outlive every call: the handle and the installed clock callback.
     * Reachable from the cleaner, never from a reference back to the client.
     */
    private static final class State implements Runnable {
        /** The live handle, or null once freed. Changed only under the write lock (or by the cleaner). */
        private Pointer handle;
        /**
         * The installed clock callback. Held strongly so that JNA does not free
         * its native trampoline while the library may call it; released only when
         * the clock is replaced or the handle is freed.
         */
        private NativeLib.ClockFn clock;

        State(Pointer handle) {
            this.handle = handle;
        }

        @Override
        public void run() {
            Pointer h = handle;
            handle = null;
            if (h != null) {
                lib().kms_client_free(h);
            }
            clock = null; // only after the library let go of it
        }
    }

    /** The clock callback: the caller's supplier behind {@code kms_clock_fn}. */
    private static final class Clock implements NativeLib.ClockFn {
        private final LongSupplier supplier;

        Clock(LongSupplier supplier) {
            this.supplier = supplier;
        }

        @Override
        public long invoke(Pointer context) {
            try {
                return supplier.getAsLong();
            } catch (Throwable t) {
                // Nothing may unwind into native code. Report it the way JNA reports
                // callback failures (Native.setCallbackExceptionHandler), and let the
                // call it happened in use the system clock rather than JNA's 0 (1970).
                try {
                    com.sun.jna.Native.getCallbackExceptionHandler().uncaughtException(this, t);
                } catch (Throwable ignored) {
                    // a failing handler must not unwind either
                }
                return System.currentTimeMillis() / 1000L;
            }
        }
    }

    private LocalKms(Pointer handle) {
        this.state = new State(handle);
        this.cleanable = CLEANER.register(this, state);
    }

    private static NativeLib lib() {
        return NativeLib.INSTANCE;
    }

    // --- opening and closing --------------------------------------------------------

    /** Opens a client ({@code kms_client_open}); null options are the defaults (in memory). */
    public static LocalKms open(OpenOptions options) {
        if (options == null) {
            return openWith(null);
        }
        NativeLib.OpenOptionsStruct s = new NativeLib.OpenOptionsStruct();
        Memory path = cString(options.keystorePath());
        Memory keyFile = cString(options.masterKeyFile());
        Memory url = cString(options.keystoreUrl());
        Memory key = secretCopy(options.masterKey());
        try {
            s.keystore_path = path;
            s.master_key = key;
            s.master_key_len = size(key == null ? 0 : key.size());
            s.master_key_file = keyFile;
            s.create_if_missing = flag(options.createIfMissing());
            s.keystore_url = url;
            return openWith(s);
        } finally {
            wipe(key);
            wipe(url); // a URL may carry a password
            free(path);
            free(keyFile);
        }
    }

    /** Opens a client on a new in-memory store. */
    public static LocalKms openInMemory() {
        return openWith(null);
    }

    private static LocalKms openWith(NativeLib.OpenOptionsStruct options) {
        PointerByReference out = new PointerByReference();
        NativeLib.KmsError err = new NativeLib.KmsError();
        check(lib().kms_client_open(options, out, err), err);
        return new LocalKms(out.getValue());
    }

    /**
     * Frees the client ({@code kms_client_free}) after the calls that are running
     * have returned. Idempotent. Must not be called from inside a clock supplier.
     */
    @Override
    public void close() {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() called from inside a call on this client");
        }
        Lock w = lock.writeLock();
        w.lock();
        try {
            cleanable.clean(); // runs State.run once: frees the handle, then drops the clock
        } finally {
            w.unlock();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        Lock r = lock.readLock();
        r.lock();
        try {
            return state.handle == null;
        } finally {
            r.unlock();
        }
    }

    /**
     * Sets the time source ({@code kms_client_set_clock}): Unix seconds, used for
     * automatic rotation, expiry of imported material, deletion dates and the dates
     * in documents. Null restores the system clock.
     *
     * <p>The supplier is called from whichever thread is making a call on this
     * client, possibly several at once: it must be thread-safe. It may call this
     * client's other methods, but not {@code setClock} or {@code close}. If it
     * throws, the exception goes to JNA's callback exception handler
     * ({@code Native.setCallbackExceptionHandler}) and that call uses the system
     * clock.
     *
     * <p>The JNA callback is kept strongly referenced by this client for as long as
     * the library may call it. This method waits for running calls (one of them may
     * be using the old clock) before it releases the old callback.
     */
    public void setClock(LongSupplier clock) {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("setClock() called from inside a call on this client");
        }
        Lock w = lock.writeLock();
        w.lock();
        try {
            Pointer h = liveHandle();
            NativeLib.ClockFn fn = clock == null ? null : new Clock(clock);
            NativeLib.KmsError err = new NativeLib.KmsError();
            check(lib().kms_client_set_clock(h, fn, null, err), err);
            state.clock = fn; // no call is running: the old callback can go
        } finally {
            w.unlock();
            Reference.reachabilityFence(this);
        }
    }

    // --- about the library ----------------------------------------------------------

    /** The library version ({@code kms_version}), e.g. {@code "0.1.0"}. */
    public static String version() {
        return lib().kms_version().getString(0, StandardCharsets.UTF_8.name());
    }

    /** The service's code for a status number ({@code kms_status_code}); "Unknown" for none. */
    public static String statusCode(int status) {
        return lib().kms_status_code(status).getString(0, StandardCharsets.UTF_8.name());
    }

    /** The service's HTTP status for a status number ({@code kms_status_http_status}); 0 for none. */
    public static int statusHttpStatus(int status) {
        return lib().kms_status_http_status(status) & 0xFFFF;
    }

    // --- encryption -----------------------------------------------------------------

    /**
     * AdvanceEncrypt ({@code kms_advance_encrypt}): encrypts with the key's primary
     * version into a self-describing blob that {@link #advanceDecrypt} opens alone.
     */
    public EncryptResult advanceEncrypt(EncryptRequest request) {
        return encryptWith(true, request);
    }

    /** AdvanceEncrypt with the defaults: AES_GCM, a random IV, no Aad. */
    public EncryptResult advanceEncrypt(String keyId, byte[] plaintext) {
        return advanceEncrypt(EncryptRequest.builder(keyId).plaintext(plaintext).build());
    }

    /**
     * Encrypt ({@code kms_encrypt}): encrypts with the key's initial version,
     * whatever rotations happened; the blob is the bare ciphertext. Keep the key
     * ID, algorithm, IV and padding mode to decrypt
     * ({@link DecryptRequest#forEncryptResult}).
     */
    public EncryptResult encrypt(EncryptRequest request) {
        return encryptWith(false, request);
    }

    /** Encrypt with the defaults: AES_GCM, a random IV, no Aad. */
    public EncryptResult encrypt(String keyId, byte[] plaintext) {
        return encrypt(EncryptRequest.builder(keyId).plaintext(plaintext).build());
    }

    private EncryptResult encryptWith(boolean advance, EncryptRequest request) {
        Objects.requireNonNull(request, "request");
        return call(h -> {
            Memory plaintext = secretCopy(request.plaintext());
            try {
                PointerByReference out = new PointerByReference();
                NativeLib.KmsError err = new NativeLib.KmsError();
                NativeLib.SizeT plaintextLen = size(plaintext == null ? 0 : plaintext.size());
                byte[] iv = nonEmpty(request.iv());
                byte[] aad = nonEmpty(request.aad());
                int status = advance
                        ? lib().kms_advance_encrypt(h, request.keyId(), plaintext, plaintextLen,
                                request.algorithm(), iv, len(iv), aad, len(aad), request.paddingMode(),
                                out, err)
                        : lib().kms_encrypt(h, request.keyId(), plaintext, plaintextLen,
                                request.algorithm(), iv, len(iv), aad, len(aad), request.paddingMode(),
                                out, err);
                check(status, err);
                return takeEncryptResponse(out.getValue());
            } finally {
                wipe(plaintext);
            }
        });
    }

    private static EncryptResult takeEncryptResponse(Pointer p) {
        try {
            NativeLib.EncryptResponse r = new NativeLib.EncryptResponse(p);
            return new EncryptResult(bytes(r.ciphertext_blob, r.ciphertext_blob_len), string(r.key_id),
                    string(r.key_version_id), string(r.algorithm), bytes(r.iv, r.iv_len),
                    string(r.padding_mode), string(r.request_id));
        } finally {
            lib().kms_encrypt_response_free(p);
        }
    }

    /**
     * AdvanceDecrypt ({@code kms_advance_decrypt}): opens an AdvanceEncrypt blob
     * from itself and its Aad; with a key ID, Encrypt output instead. The
     * plaintext is the caller's to wipe.
     */
    public DecryptResult advanceDecrypt(DecryptRequest request) {
        return decryptWith(true, request);
    }

    /** AdvanceDecrypt of a blob made without Aad. */
    public DecryptResult advanceDecrypt(byte[] ciphertextBlob) {
        return advanceDecrypt(DecryptRequest.builder(ciphertextBlob).build());
    }

    /**
     * Decrypt ({@code kms_decrypt}): opens Encrypt output with the key's initial
     * version; the key ID is required. The plaintext is the caller's to wipe.
     */
    public DecryptResult decrypt(DecryptRequest request) {
        return decryptWith(false, request);
    }

    private DecryptResult decryptWith(boolean advance, DecryptRequest request) {
        Objects.requireNonNull(request, "request");
        return call(h -> {
            PointerByReference out = new PointerByReference();
            NativeLib.KmsError err = new NativeLib.KmsError();
            byte[] blob = nonEmpty(request.ciphertextBlob());
            byte[] iv = nonEmpty(request.iv());
            byte[] aad = nonEmpty(request.aad());
            int status = advance
                    ? lib().kms_advance_decrypt(h, blob, len(blob), request.keyId(), request.algorithm(),
                            iv, len(iv), aad, len(aad), request.paddingMode(), out, err)
                    : lib().kms_decrypt(h, blob, len(blob), request.keyId(), request.algorithm(),
                            iv, len(iv), aad, len(aad), request.paddingMode(), out, err);
            check(status, err);
            return takeDecryptResponse(out.getValue());
        });
    }

    private static DecryptResult takeDecryptResponse(Pointer p) {
        byte[] plaintext = null;
        boolean handedOver = false;
        try {
            NativeLib.DecryptResponse r = new NativeLib.DecryptResponse(p);
            plaintext = bytes(r.plaintext, r.plaintext_len);
            DecryptResult result = new DecryptResult(plaintext, string(r.key_id),
                    string(r.key_version_id), string(r.algorithm), string(r.padding_mode),
                    string(r.request_id));
            handedOver = true;
            return result;
        } finally {
            if (!handedOver && plaintext != null) {
                Arrays.fill(plaintext, (byte) 0);
            }
            lib().kms_decrypt_response_free(p); // wipes the native plaintext
        }
    }

    // --- data keys ------------------------------------------------------------------

    /**
     * AdvanceGenerateDataKey ({@code kms_advance_generate_data_key}): a random
     * data key of {@code numberOfBytes} (1 to 1024; 0 means 32), in plaintext and
     * encrypted with the primary version into a blob {@link #advanceDecrypt} opens
     * (with the same Aad). The plaintext is the caller's to wipe.
     */
    public DataKeyResult advanceGenerateDataKey(String keyId, int numberOfBytes, byte[] aad) {
        return dataKeyWith(true, keyId, numberOfBytes, aad);
    }

    /**
     * GenerateDataKey ({@code kms_generate_data_key}): as
     * {@link #advanceGenerateDataKey}, but with the initial version and a bare
     * ciphertext, opened by {@link #decrypt} with the key ID, AES_GCM, the IV and
     * the Aad.
     */
    public DataKeyResult generateDataKey(String keyId, int numberOfBytes, byte[] aad) {
        return dataKeyWith(false, keyId, numberOfBytes, aad);
    }

    private DataKeyResult dataKeyWith(boolean advance, String keyId, int numberOfBytes, byte[] aad) {
        if (numberOfBytes < 0) {
            throw new IllegalArgumentException("numberOfBytes < 0");
        }
        return call(h -> {
            PointerByReference out = new PointerByReference();
            NativeLib.KmsError err = new NativeLib.KmsError();
            byte[] a = nonEmpty(aad);
            int status = advance
                    ? lib().kms_advance_generate_data_key(h, keyId, numberOfBytes, a, len(a), out, err)
                    : lib().kms_generate_data_key(h, keyId, numberOfBytes, a, len(a), out, err);
            check(status, err);
            return takeDataKeyResponse(out.getValue());
        });
    }

    private static DataKeyResult takeDataKeyResponse(Pointer p) {
        byte[] plaintext = null;
        boolean handedOver = false;
        try {
            NativeLib.DataKeyResponse r = new NativeLib.DataKeyResponse(p);
            plaintext = bytes(r.plaintext, r.plaintext_len);
            DataKeyResult result = new DataKeyResult(plaintext,
                    bytes(r.ciphertext_blob, r.ciphertext_blob_len), string(r.key_id),
                    string(r.key_version_id), string(r.algorithm), bytes(r.iv, r.iv_len),
                    string(r.request_id));
            handedOver = true;
            return result;
        } finally {
            if (!handedOver && plaintext != null) {
                Arrays.fill(plaintext, (byte) 0);
            }
            lib().kms_data_key_response_free(p); // wipes the native data key
        }
    }

    // --- versions and rotation ------------------------------------------------------

    /**
     * CreateKeyVersion ({@code kms_key_rotate}): a new primary version; old ones
     * keep decrypting. Returns the new KeyVersionId.
     */
    public String rotateKey(String keyId) {
        return call(h -> {
            PointerByReference out = new PointerByReference();
            NativeLib.KmsError err = new NativeLib.KmsError();
            check(lib().kms_key_rotate(h, keyId, out, err), err);
            return takeString(out.getValue());
        });
    }

    /**
     * UpdateRotationPolicy ({@code kms_update_rotation_policy}): interval
     * {@code "<n>d|h|m|s"}, 7 to 365 days; null keeps the earlier interval.
     */
    public void updateRotationPolicy(String keyId, boolean enableAutomaticRotation,
            String rotationInterval) {
        run((h, err) -> lib().kms_update_rotation_policy(h, keyId, flag(enableAutomaticRotation),
                rotationInterval, err));
    }

    // --- keys -----------------------------------------------------------------------

    /**
     * CreateKey ({@code kms_create_key_with_options}); returns the new KeyId. Every
     * option left null is passed as NULL, the library's default.
     */
    public String createKey(CreateKeyRequest request) {
        Objects.requireNonNull(request, "request");
        return call(h -> {
            NativeLib.CreateKeyOptionsStruct s = new NativeLib.CreateKeyOptionsStruct();
            Memory[] strings = {
                cString(request.keySpec()), cString(request.keyUsage()), cString(request.origin()),
                cString(request.description()), cString(request.keyId()), cString(request.algorithms()),
            };
            try {
                s.key_spec = strings[0];
                s.key_usage = strings[1];
                s.origin = strings[2];
                s.description = strings[3];
                s.key_id = strings[4];
                s.algorithms = strings[5];
                PointerByReference out = new PointerByReference();
                NativeLib.KmsError err = new NativeLib.KmsError();
                check(lib().kms_create_key_with_options(h, s, out, err), err);
                return takeString(out.getValue());
            } finally {
                for (Memory m : strings) {
                    free(m);
                }
            }
        });
    }

    /** CreateKey with the defaults: an Aliyun_AES_256 ENCRYPT/DECRYPT key that permits AES_GCM only. */
    public String createKey() {
        return createKey(CreateKeyRequest.builder().build());
    }

    /**
     * ImportKeyMaterial ({@code kms_import_key_material}): plain material (AES: 32,
     * 24 or 16 bytes; SM4: 16) for an EXTERNAL key's initial version;
     * {@code expireUnix} 0 for never. The material goes through a native buffer
     * that is zeroed afterwards; wipe your array yourself.
     */
    public void importKeyMaterial(String keyId, byte[] keyMaterial, long expireUnix) {
        call(h -> {
            Memory material = secretCopy(keyMaterial);
            try {
                NativeLib.KmsError err = new NativeLib.KmsError();
                check(lib().kms_import_key_material(h, keyId, material,
                        size(material == null ? 0 : material.size()), expireUnix, err), err);
                return null;
            } finally {
                wipe(material);
            }
        });
    }

    /**
     * ImportKeyVersion ({@code kms_import_key_version}): material for the EXTERNAL
     * key {@code keyId} as the version named {@code keyVersionId} (any 36 printable
     * ASCII characters, such as the KeyVersionId of the cloud key being mirrored,
     * so that the cloud's ciphertext opens here; null for a fresh one). The first
     * version imported is the key's initial version (Encrypt's); each later one
     * becomes primary (AdvanceEncrypt's). The same id with the same material again
     * is accepted; with other material it is {@link KmsStatus#INVALID_KEY_MATERIAL}.
     * {@code expireUnix} (0: never) applies to the whole key. The material goes
     * through a native buffer that is zeroed afterwards; wipe your array yourself.
     */
    public void importKeyVersion(String keyId, String keyVersionId, byte[] keyMaterial, long expireUnix) {
        call(h -> {
            Memory material = secretCopy(keyMaterial);
            try {
                NativeLib.KmsError err = new NativeLib.KmsError();
                check(lib().kms_import_key_version(h, keyId, keyVersionId, material,
                        size(material == null ? 0 : material.size()), expireUnix, err), err);
                return null;
            } finally {
                wipe(material);
            }
        });
    }

    /** EnableKey ({@code kms_enable_key}). */
    public void enableKey(String keyId) {
        run((h, err) -> lib().kms_enable_key(h, keyId, err));
    }

    /** DisableKey ({@code kms_disable_key}). */
    public void disableKey(String keyId) {
        run((h, err) -> lib().kms_disable_key(h, keyId, err));
    }

    /** ScheduleKeyDeletion ({@code kms_schedule_key_deletion}): 7 to 366 days. */
    public void scheduleKeyDeletion(String keyId, int pendingWindowInDays) {
        run((h, err) -> lib().kms_schedule_key_deletion(h, keyId, pendingWindowInDays, err));
    }

    /** CancelKeyDeletion ({@code kms_cancel_key_deletion}). */
    public void cancelKeyDeletion(String keyId) {
        run((h, err) -> lib().kms_cancel_key_deletion(h, keyId, err));
    }

    // --- aliases --------------------------------------------------------------------

    /** CreateAlias ({@code kms_create_alias}): {@code alias/...} names {@code keyId}. */
    public void createAlias(String aliasName, String keyId) {
        run((h, err) -> lib().kms_create_alias(h, aliasName, keyId, err));
    }

    /** UpdateAlias ({@code kms_update_alias}): the alias names another key. */
    public void updateAlias(String aliasName, String keyId) {
        run((h, err) -> lib().kms_update_alias(h, aliasName, keyId, err));
    }

    /** DeleteAlias ({@code kms_delete_alias}). */
    public void deleteAlias(String aliasName) {
        run((h, err) -> lib().kms_delete_alias(h, aliasName, err));
    }

    // --- documents ------------------------------------------------------------------

    /** DescribeKey ({@code kms_describe_key}): {@code {"KeyMetadata": {...}, "RequestId": ...}}. */
    public String describeKey(String keyId) {
        return json((h, out, err) -> lib().kms_describe_key(h, keyId, out, err));
    }

    /** ListKeys ({@code kms_list_keys}): {@code {"Keys": {"Key": [...]}, ...}}. */
    public String listKeys() {
        return json((h, out, err) -> lib().kms_list_keys(h, out, err));
    }

    /** ListKeyVersions ({@code kms_list_key_versions}): {@code {"KeyVersions": {"KeyVersion": [...]}, ...}}. */
    public String listKeyVersions(String keyId) {
        return json((h, out, err) -> lib().kms_list_key_versions(h, keyId, out, err));
    }

    /** ListAliases ({@code kms_list_aliases}): {@code {"Aliases": {"Alias": [...]}, ...}}. */
    public String listAliases() {
        return json((h, out, err) -> lib().kms_list_aliases(h, out, err));
    }

    // --- plumbing -------------------------------------------------------------------

    private interface JsonCall {
        int apply(Pointer handle, PointerByReference out, NativeLib.KmsError err);
    }

    private interface StatusCall {
        int apply(Pointer handle, NativeLib.KmsError err);
    }

    private String json(JsonCall body) {
        return call(h -> {
            PointerByReference out = new PointerByReference();
            NativeLib.KmsError err = new NativeLib.KmsError();
            check(body.apply(h, out, err), err);
            return takeString(out.getValue());
        });
    }

    private void run(StatusCall body) {
        call(h -> {
            NativeLib.KmsError err = new NativeLib.KmsError();
            check(body.apply(h, err), err);
            return null;
        });
    }

    /**
     * Runs {@code body} with the live handle under the read lock, so that
     * {@link #close()} cannot free the handle while the call runs.
     */
    private <T> T call(Function<Pointer, T> body) {
        Lock r = lock.readLock();
        r.lock();
        try {
            return body.apply(liveHandle());
        } finally {
            r.unlock();
            // Keeps the client (and so its cleaner) from being collected while the
            // native call runs.
            Reference.reachabilityFence(this);
        }
    }

    private Pointer liveHandle() {
        Pointer h = state.handle;
        if (h == null) {
            throw new IllegalStateException("this LocalKms client is closed");
        }
        return h;
    }

    private static void check(int status, NativeLib.KmsError err) {
        if (status == 0) {
            return;
        }
        String code = cut(err.code);
        String message = cut(err.message);
        String requestId = cut(err.request_id);
        int http = err.http_status & 0xFFFF;
        if (code.isEmpty()) { // the library always fills it; belt and braces
            code = statusCode(status);
            http = statusHttpStatus(status);
        }
        throw new KmsException(status, code, http, message, requestId);
    }

    /** A NUL-terminated UTF-8 string from a fixed-size char array. */
    private static String cut(byte[] chars) {
        return com.sun.jna.Native.toString(chars, StandardCharsets.UTF_8);
    }

    /** Copies a library string (NULL: "") and frees it with {@code kms_string_free}. */
    private static String takeString(Pointer p) {
        try {
            return string(p);
        } finally {
            lib().kms_string_free(p);
        }
    }

    private static String string(Pointer p) {
        return p == null ? "" : p.getString(0, StandardCharsets.UTF_8.name());
    }

    private static byte[] bytes(Pointer p, NativeLib.SizeT len) {
        long n = len == null ? 0 : len.longValue();
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("buffer of " + Long.toUnsignedString(n) + " bytes");
        }
        if (p == null || n == 0) {
            return new byte[0];
        }
        return p.getByteArray(0, (int) n);
    }

    private static byte[] nonEmpty(byte[] a) {
        return a == null || a.length == 0 ? null : a;
    }

    /** A boolean as the header's int flags take it: 1 or 0 (the C ABI has no bool). */
    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    private static NativeLib.SizeT len(byte[] a) {
        return size(a == null ? 0 : a.length);
    }

    private static NativeLib.SizeT size(long n) {
        return new NativeLib.SizeT(n);
    }

    /** A native copy of a secret (null for null or empty); zero it with {@link #wipe}. */
    private static Memory secretCopy(byte[] secret) {
        if (secret == null || secret.length == 0) {
            return null;
        }
        Memory m = new Memory(secret.length);
        m.write(0, secret, 0, secret.length);
        return m;
    }

    private static void wipe(Memory m) {
        if (m != null) {
            m.clear();
            m.close();
        }
    }

    private static Memory cString(String s) {
        if (s == null) {
            return null;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Memory m = new Memory(b.length + 1L);
        m.write(0, b, 0, b.length);
        m.setByte(b.length, (byte) 0);
        return m;
    }

    private static void free(Memory m) {
        if (m != null) {
            m.close();
        }
    }
}
