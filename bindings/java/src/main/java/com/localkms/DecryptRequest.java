package com.localkms;

/**
 * The parameters of {@link LocalKms#advanceDecrypt} and {@link LocalKms#decrypt}.
 *
 * <p>For {@code advanceDecrypt} of an AdvanceEncrypt blob give the blob (and the
 * Aad it was made with) only; the blob may also be in the gateway form (without
 * its first 3 bytes: KeyVersionId | Iv | ciphertext || tag, as Alibaba's SDKs
 * send it). An IV given with such a blob is ignored, as the service ignores the
 * one the SDKs send along. For Encrypt output (to {@code decrypt}, or to
 * {@code advanceDecrypt} with a key ID) also give the key ID, algorithm, IV and
 * padding mode it was made with. The request keeps references to the arrays it
 * is given.
 */
public final class DecryptRequest {
    private final byte[] ciphertextBlob;
    private final String keyId;
    private final String algorithm;
    private final byte[] iv;
    private final byte[] aad;
    private final String paddingMode;

    private DecryptRequest(Builder b) {
        this.ciphertextBlob = b.ciphertextBlob;
        this.keyId = b.keyId;
        this.algorithm = b.algorithm;
        this.iv = b.iv;
        this.aad = b.aad;
        this.paddingMode = b.paddingMode;
    }

    /** A builder for the blob {@code ciphertextBlob}. */
    public static Builder builder(byte[] ciphertextBlob) {
        return new Builder().ciphertextBlob(ciphertextBlob);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A request to open Encrypt output as {@code result} describes it (key ID,
     * algorithm, IV, padding mode); add the Aad if there was one.
     */
    public static Builder forEncryptResult(EncryptResult result) {
        return builder(result.getCiphertextBlob())
                .keyId(result.getKeyId())
                .algorithm(result.getAlgorithm())
                .iv(result.getIv())
                .paddingMode(result.getPaddingMode());
    }

    byte[] ciphertextBlob() {
        return ciphertextBlob;
    }

    String keyId() {
        return keyId;
    }

    String algorithm() {
        return algorithm;
    }

    byte[] iv() {
        return iv;
    }

    byte[] aad() {
        return aad;
    }

    String paddingMode() {
        return paddingMode;
    }

    public static final class Builder {
        private byte[] ciphertextBlob;
        private String keyId;
        private String algorithm;
        private byte[] iv;
        private byte[] aad;
        private String paddingMode;

        private Builder() {
        }

        public Builder ciphertextBlob(byte[] blob) {
            this.ciphertextBlob = blob;
            return this;
        }

        /** Required for {@code decrypt}; for {@code advanceDecrypt} it means "Encrypt output". */
        public Builder keyId(String keyId) {
            this.keyId = keyId;
            return this;
        }

        public Builder algorithm(Algorithm algorithm) {
            this.algorithm = algorithm == null ? null : algorithm.name();
            return this;
        }

        /**
         * The service's spelling. Without a key ID, {@code "AES_GCM"} makes
         * {@code advanceDecrypt} refuse a blob whose algorithm byte says otherwise.
         */
        public Builder algorithm(String algorithm) {
            this.algorithm = algorithm;
            return this;
        }

        public Builder iv(byte[] iv) {
            this.iv = iv;
            return this;
        }

        public Builder aad(byte[] aad) {
            this.aad = aad;
            return this;
        }

        public Builder paddingMode(PaddingMode paddingMode) {
            this.paddingMode = paddingMode == null ? null : paddingMode.name();
            return this;
        }

        public Builder paddingMode(String paddingMode) {
            this.paddingMode = paddingMode;
            return this;
        }

        public DecryptRequest build() {
            return new DecryptRequest(this);
        }
    }
}
