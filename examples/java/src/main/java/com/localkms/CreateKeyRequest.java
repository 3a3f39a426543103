package com.localkms;

/**
 * The parameters of {@link LocalKms#createKey(CreateKeyRequest)}; every one is
 * optional (null: the service's default).
 *
 * <pre>{@code
 * String keyId = kms.createKey(CreateKeyRequest.builder()
 *         .keySpec("Aliyun_AES_128")
 *         .description("orders")
 *         .build());
 * }</pre>
 */
public final class CreateKeyRequest {
    /** The key specs the library knows. */
    public static final String ALIYUN_AES_256 = "Aliyun_AES_256";
    public static final String ALIYUN_AES_192 = "Aliyun_AES_192";
    public static final String ALIYUN_AES_128 = "Aliyun_AES_128";
    public static final String RSA_2048 = "RSA_2048";
    public static final String RSA_3072 = "RSA_3072";
    public static final String RSA_4096 = "RSA_4096";
    public static final String EC_P256 = "EC_P256";
    public static final String EC_P256K = "EC_P256K";
    /** Origins. */
    public static final String ORIGIN_ALIYUN_KMS = "Aliyun_KMS";
    public static final String ORIGIN_EXTERNAL = "EXTERNAL";

    private final String keySpec;
    private final String keyUsage;
    private final String origin;
    private final String description;

    private CreateKeyRequest(Builder b) {
        this.keySpec = b.keySpec;
        this.keyUsage = b.keyUsage;
        this.origin = b.origin;
        this.description = b.description;
    }

    public static Builder builder() {
        return new Builder();
    }

    String keySpec() {
        return keySpec;
    }

    String keyUsage() {
        return keyUsage;
    }

    String origin() {
        return origin;
    }

    String description() {
        return description;
    }

    public static final class Builder {
        private String keySpec;
        private String keyUsage;
        private String origin;
        private String description;

        private Builder() {
        }

        /** Null: Aliyun_AES_256. */
        public Builder keySpec(String keySpec) {
            this.keySpec = keySpec;
            return this;
        }

        /** Null: ENCRYPT/DECRYPT for AES and RSA, SIGN/VERIFY for EC. */
        public Builder keyUsage(String keyUsage) {
            this.keyUsage = keyUsage;
            return this;
        }

        /** Null: Aliyun_KMS; EXTERNAL: PendingImport until {@link LocalKms#importKeyMaterial}. */
        public Builder origin(String origin) {
            this.origin = origin;
            return this;
        }

        /** Up to 8192 characters. */
        public Builder description(String description) {
            this.description = description;
            return this;
        }

        public CreateKeyRequest build() {
            return new CreateKeyRequest(this);
        }
    }
}
