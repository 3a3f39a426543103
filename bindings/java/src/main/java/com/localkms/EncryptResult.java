package com.localkms;

/**
 * What {@link LocalKms#advanceEncrypt} and {@link LocalKms#encrypt} return: a Java
 * copy of {@code kms_encrypt_response} (the native response is freed before the
 * call returns). Getters of byte arrays return copies.
 */
public final class EncryptResult {
    private final byte[] ciphertextBlob;
    private final String keyId;
    private final String keyVersionId;
    private final String algorithm;
    private final byte[] iv;
    private final String paddingMode;
    private final String requestId;

    EncryptResult(byte[] ciphertextBlob, String keyId, String keyVersionId, String algorithm,
            byte[] iv, String paddingMode, String requestId) {
        this.ciphertextBlob = ciphertextBlob;
        this.keyId = keyId;
        this.keyVersionId = keyVersionId;
        this.algorithm = algorithm;
        this.iv = iv;
        this.paddingMode = paddingMode;
        this.requestId = requestId;
    }

    /** AdvanceEncrypt: the self-describing blob. Encrypt: the bare ciphertext (GCM: || tag). */
    public byte[] getCiphertextBlob() {
        return ciphertextBlob.clone();
    }

    /** The real KeyId, also when an alias was passed. */
    public String getKeyId() {
        return keyId;
    }

    /** The version that encrypted. */
    public String getKeyVersionId() {
        return keyVersionId;
    }

    /** {@code "AES_GCM"}, {@code "AES_CBC"} or {@code "AES_ECB"}. */
    public String getAlgorithm() {
        return algorithm;
    }

    /** The IV used: 12 bytes for AES_GCM, 16 for AES_CBC, empty for AES_ECB. */
    public byte[] getIv() {
        return iv.clone();
    }

    /** {@code "PKCS7_PADDING"} or {@code "NO_PADDING"} for the block modes, {@code ""} for AES_GCM. */
    public String getPaddingMode() {
        return paddingMode;
    }

    /** The call's RequestId (a fresh UUID). */
    public String getRequestId() {
        return requestId;
    }

    @Override
    public String toString() {
        return "EncryptResult[keyId=" + keyId + ", keyVersionId=" + keyVersionId + ", algorithm="
                + algorithm + ", paddingMode=" + paddingMode + ", ciphertextBlob="
                + ciphertextBlob.length + " bytes, requestId=" + requestId + "]";
    }
}
