package com.localkms;

import java.util.Arrays;

/**
 * What {@link LocalKms#advanceDecrypt} and {@link LocalKms#decrypt} return: a Java
 * copy of {@code kms_decrypt_response}. The library wiped its native plaintext
 * when the wrapper freed the response.
 *
 * <p><b>The plaintext array is the caller's to wipe.</b> {@link #getPlaintext()}
 * returns the one array this result holds (not a copy), so that no copy of the
 * secret is left behind; overwrite it when done, with {@link #close()} (for
 * try-with-resources) or {@code Arrays.fill(plaintext, (byte) 0)}.
 */
public final class DecryptResult implements AutoCloseable {
    private final byte[] plaintext;
    private final String keyId;
    private final String keyVersionId;
    private final String algorithm;
    private final String paddingMode;
    private final String requestId;

    DecryptResult(byte[] plaintext, String keyId, String keyVersionId, String algorithm,
            String paddingMode, String requestId) {
        this.plaintext = plaintext;
        this.keyId = keyId;
        this.keyVersionId = keyVersionId;
        this.algorithm = algorithm;
        this.paddingMode = paddingMode;
        this.requestId = requestId;
    }

    /** The plaintext: this result's own array, not a copy. Wipe it when done. */
    public byte[] getPlaintext() {
        return plaintext;
    }

    public String getKeyId() {
        return keyId;
    }

    /** The version that decrypted. */
    public String getKeyVersionId() {
        return keyVersionId;
    }

    public String getAlgorithm() {
        return algorithm;
    }

    /** {@code ""} for AES_GCM. */
    public String getPaddingMode() {
        return paddingMode;
    }

    public String getRequestId() {
        return requestId;
    }

    /** Overwrites the plaintext with zeros. */
    @Override
    public void close() {
        Arrays.fill(plaintext, (byte) 0);
    }

    @Override
    public String toString() {
        return "DecryptResult[keyId=" + keyId + ", keyVersionId=" + keyVersionId + ", algorithm="
                + algorithm + ", paddingMode=" + paddingMode + ", plaintext=" + plaintext.length
                + " bytes, requestId=" + requestId + "]";
    }
}
