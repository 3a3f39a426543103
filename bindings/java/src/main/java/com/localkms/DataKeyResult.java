package com.localkms;

import java.util.Arrays;

/**
 * What {@link LocalKms#generateDataKey} and {@link LocalKms#advanceGenerateDataKey}
 * return: a Java copy of {@code kms_data_key_response}.
 *
 * <p><b>The plaintext data key is the caller's to wipe.</b> {@link #getPlaintext()}
 * returns this result's own array; encrypt your data with it, keep only
 * {@link #getCiphertextBlob()}, and wipe it with {@link #close()} (for
 * try-with-resources) or {@code Arrays.fill}.
 */
public final class DataKeyResult implements AutoCloseable {
    private final byte[] plaintext;
    private final byte[] ciphertextBlob;
    private final String keyId;
    private final String keyVersionId;
    private final String algorithm;
    private final byte[] iv;
    private final String requestId;

    DataKeyResult(byte[] plaintext, byte[] ciphertextBlob, String keyId, String keyVersionId,
            String algorithm, byte[] iv, String requestId) {
        this.plaintext = plaintext;
        this.ciphertextBlob = ciphertextBlob;
        this.keyId = keyId;
        this.keyVersionId = keyVersionId;
        this.algorithm = algorithm;
        this.iv = iv;
        this.requestId = requestId;
    }

    /** The data key: this result's own array, not a copy. Wipe it when done. */
    public byte[] getPlaintext() {
        return plaintext;
    }

    /**
     * The data key encrypted with AES_GCM. Advance: the self-describing blob (open
     * with {@code advanceDecrypt} and the same Aad). Plain: ciphertext || tag (open
     * with {@code decrypt}, the KeyId, AES_GCM, {@link #getIv()} and the Aad).
     */
    public byte[] getCiphertextBlob() {
        return ciphertextBlob.clone();
    }

    public String getKeyId() {
        return keyId;
    }

    public String getKeyVersionId() {
        return keyVersionId;
    }

    /** {@code "AES_GCM"}. */
    public String getAlgorithm() {
        return algorithm;
    }

    /** The 12-byte IV. */
    public byte[] getIv() {
        return iv.clone();
    }

    public String getRequestId() {
        return requestId;
    }

    /** Overwrites the plaintext data key with zeros. */
    @Override
    public void close() {
        Arrays.fill(plaintext, (byte) 0);
    }

    @Override
    public String toString() {
        return "DataKeyResult[keyId=" + keyId + ", keyVersionId=" + keyVersionId + ", plaintext="
                + plaintext.length + " bytes, requestId=" + requestId + "]";
    }
}
