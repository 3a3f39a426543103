package com.localkms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The parameters of {@link LocalKms#createKey(CreateKeyRequest)}
 * ({@code kms_create_key_options}); every one is optional (null: the service's
 * default, passed as NULL).
 *
 * <pre>{@code
 * String keyId = kms.createKey(CreateKeyRequest.builder()
 *         .keySpec("Aliyun_AES_128")
 *         .description("orders")
 *         .algorithms(Algorithm.AES_GCM, Algorithm.AES_CBC)   // default: AES_GCM only
 *         .build());
 *
 * // A mirror of a cloud key: its KeyId, then its versions' material.
 * String mirrored = kms.createKey(CreateKeyRequest.builder()
 *         .origin(CreateKeyRequest.ORIGIN_EXTERNAL)
 *         .keyId("1234abcd-12ab-34cd-56ef-1234567890ab")
 *         .build());
 * kms.importKeyVersion(mirrored, cloudKeyVersionId, material, 0);
 * }</pre>
 */
public final class CreateKeyRequest {
    /** The key specs the library knows. */
    public static final String ALIYUN_AES_256 = "Aliyun_AES_256";
    public static final String ALIYUN_AES_192 = "Aliyun_AES_192";
    public static final String ALIYUN_AES_128 = "Aliyun_AES_128";
    /** 128-bit SM4 (16 bytes of material): SM4_GCM, SM4_CBC, SM4_ECB. */
    public static final String ALIYUN_SM4 = "Aliyun_SM4";
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
    private final String keyId;
    private final String algorithms;

    private CreateKeyRequest(Builder b) {
        this.keySpec = b.keySpec;
        this.keyUsage = b.keyUsage;
        this.origin = b.origin;
        this.description = b.description;
        this.keyId = b.keyId;
        this.algorithms = b.algorithms == null || b.algorithms.isEmpty() ? null : String.join(",", b.algorithms);
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

    String keyId() {
        return keyId;
    }

    /** The comma list passed to the library, or null for the default. */
    String algorithms() {
        return algorithms;
    }

    public static final class Builder {
        private String keySpec;
        private String keyUsage;
        private String origin;
        private String description;
        private String keyId;
        private List<String> algorithms;

        private Builder() {
        }

        /** Null: Aliyun_AES_256. */
        public Builder keySpec(String keySpec) {
            this.keySpec = keySpec;
            return this;
        }

        /** Null: ENCRYPT/DECRYPT for AES, SM4 and RSA, SIGN/VERIFY for EC. */
        public Builder keyUsage(String keyUsage) {
            this.keyUsage = keyUsage;
            return this;
        }

        /**
         * Null: Aliyun_KMS; EXTERNAL: PendingImport until
         * {@link LocalKms#importKeyMaterial} or {@link LocalKms#importKeyVersion}.
         */
        public Builder origin(String origin) {
            this.origin = origin;
            return this;
        }

        /** Up to 8192 characters. */
        public Builder description(String description) {
            this.description = description;
            return this;
        }

        /**
         * Null: a fresh KeyId. Else the KeyId of the cloud key this one mirrors
         * (EXTERNAL keys only): 1 to 64 of {@code [A-Za-z0-9-]}, e.g. a UUID.
         */
        public Builder keyId(String keyId) {
            this.keyId = keyId;
            return this;
        }

        /**
         * The algorithms the key permits, in the service's spelling
         * ({@code "AES_GCM", "AES_CBC", "AES_ECB"}); none (the default) is the GCM
         * of the spec only. Passed to the library as a comma list. CBC and ECB have
         * no integrity: allow them only for legacy ciphertext.
         */
        public Builder algorithms(String... algorithms) {
            return algorithms(algorithms == null ? null : Arrays.asList(algorithms));
        }

        /** As {@link #algorithms(String...)}. */
        public Builder algorithms(Algorithm... algorithms) {
            if (algorithms == null) {
                this.algorithms = null;
                return this;
            }
            List<String> names = new ArrayList<>();
            for (Algorithm a : algorithms) {
                names.add(Objects.requireNonNull(a, "algorithm").name());
            }
            this.algorithms = names;
            return this;
        }

        /** As {@link #algorithms(String...)}; null or empty is the default. */
        public Builder algorithms(Collection<String> algorithms) {
            if (algorithms == null) {
                this.algorithms = null;
                return this;
            }
            List<String> names = new ArrayList<>();
            for (String a : algorithms) {
                names.add(Objects.requireNonNull(a, "algorithm"));
            }
            this.algorithms = names;
            return this;
        }

        public CreateKeyRequest build() {
            return new CreateKeyRequest(this);
        }
    }
}
