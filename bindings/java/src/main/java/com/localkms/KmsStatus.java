package com.localkms;

/**
 * The library's {@code kms_status} values (docs/c-api.md, section 2). The numbers are
 * permanent; {@link #UNKNOWN} stands for a number this wrapper does not know
 * (a newer library), whose code and HTTP status {@link KmsException} still
 * carries as the library reported them.
 */
public enum KmsStatus {
    OK(0, "OK", 200),
    INVALID_PARAMETER(100, "InvalidParameter", 400),
    MISSING_PARAMETER(101, "MissingParameter", 400),
    UNSUPPORTED_OPERATION(102, "Rejected.UnsupportedOperation", 400),
    ALIAS_ALREADY_EXISTS(103, "AliasAlreadyExists", 400),
    INVALID_KEY_MATERIAL(104, "InvalidKeyMaterial", 400),
    INVALID_CIPHERTEXT(105, "InvalidCiphertext", 400),
    KEY_NOT_FOUND(200, "Forbidden.KeyNotFound", 404),
    ALIAS_NOT_FOUND(201, "Forbidden.AliasNotFound", 404),
    ONLY_SYMMETRIC_KEY_SUPPORTED(202, "Forbidden.OnlySymmetricKeySupported", 404),
    KEY_DISABLED(300, "Rejected.Disabled", 409),
    KEY_PENDING_DELETION(301, "Rejected.PendingDeletion", 409),
    KEY_PENDING_IMPORT(302, "Rejected.PendingImport", 409),
    KEYSTORE_IO(400, "KeyStore.IOError", 500),
    KEYSTORE_CORRUPT(401, "KeyStore.Corrupted", 500),
    KEYSTORE_ACCESS_DENIED(402, "KeyStore.AccessDenied", 403),
    INTERNAL_FAILURE(500, "InternalFailure", 500),
    /** A number that is none of the above. */
    UNKNOWN(-1, "Unknown", 0);

    private final int number;
    private final String code;
    private final int httpStatus;

    KmsStatus(int number, String code, int httpStatus) {
        this.number = number;
        this.code = code;
        this.httpStatus = httpStatus;
    }

    /** The C value ({@code KMS_STATUS_KEY_NOT_FOUND} is 200). */
    public int number() {
        return number;
    }

    /** The service's code string, e.g. {@code "Forbidden.KeyNotFound"}. */
    public String code() {
        return code;
    }

    /** The service's HTTP status, e.g. 404. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The status for a C value, or {@link #UNKNOWN}. */
    public static KmsStatus of(int number) {
        for (KmsStatus s : values()) {
            if (s.number == number && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
