package com.localkms;

/**
 * The parameters of {@link LocalKms#advanceEncrypt} and {@link LocalKms#encrypt}.
 *
 * <pre>{@code
 * EncryptRequest request = EncryptRequest.builder("alias/app")
 *         .plaintext(bytes)
 *         .algorithm(Algorithm.AES_CBC)
 *         .paddingMode(PaddingMode.PKCS7_PADDING)
 *         .build();
 * }</pre>
 *
 * <p>The request keeps references to the arrays it is given (it does not copy the
 * plaintext, so there is no extra copy of it to wipe); do not change them while a
 * call is using the request.
 */
public final class EncryptRequest {
    private final String keyId;
    private final byte[] plaintext;
    private final String algorithm;
    private final byte[] iv;
    private final byte[] aad;
    private final String paddingMode;

    private EncryptRequest(Builder b) {
        this.keyId = b.keyId;
        this.plaintext = b.plaintext;
        this.algorithm = b.algorithm;
        this.iv = b.iv;
        this.aad = b.aad;
        this.paddingMode = b.paddingMode;
    }

    /** A builder for the key {@code keyId} (a KeyId or an alias). */
    public static Builder builder(String keyId) {
        return new Builder().keyId(keyId);
    }

    public static Builder builder() {
        return new Builder();
    }

    String keyId() {
        return keyId;
    }

    byte[] plaintext() {
        return plaintext;
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
        private String keyId;
        private byte[] plaintext;
        private String algorithm;
        private byte[] iv;
        private byte[] aad;
        private String paddingMode;

        private Builder() {
        }

        /** A KeyId or an alias ({@code alias/...}). Required. */
        public Builder keyId(String keyId) {
            this.keyId = keyId;
            return this;
        }

        /** The bytes to encrypt; null is empty. Not copied. */
        public Builder plaintext(byte[] plaintext) {
            this.plaintext = plaintext;
            return this;
        }

        /**
         * Null: the key's GCM (AES_GCM; SM4_GCM for an Aliyun_SM4 key). Only an
         * algorithm the key was created with ({@link CreateKeyRequest.Builder#algorithms});
         * any other is {@link KmsStatus#UNSUPPORTED_OPERATION}.
         */
        public Builder algorithm(Algorithm algorithm) {
            this.algorithm = algorithm == null ? null : algorithm.name();
            return this;
        }

        /** The service's spelling ({@code "AES_CBC"}); null or "" is the default. */
        public Builder algorithm(String algorithm) {
            this.algorithm = algorithm;
            return this;
        }

        /** Null (advised): a fresh random IV. Else 12 bytes for AES_GCM, 16 for AES_CBC. */
        public Builder iv(byte[] iv) {
            this.iv = iv;
            return this;
        }

        /** AES_GCM only, up to 8192 bytes; give it again to decrypt. */
        public Builder aad(byte[] aad) {
            this.aad = aad;
            return this;
        }

        /** AES_CBC / AES_ECB only; null: PKCS7_PADDING. */
        public Builder paddingMode(PaddingMode paddingMode) {
            this.paddingMode = paddingMode == null ? null : paddingMode.name();
            return this;
        }

        public Builder paddingMode(String paddingMode) {
            this.paddingMode = paddingMode;
            return this;
        }

        public EncryptRequest build() {
            return new EncryptRequest(this);
        }
    }
}
