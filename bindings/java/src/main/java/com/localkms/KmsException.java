package com.localkms;

/**
 * A failed call: what the library wrote into its {@code kms_error}.
 *
 * <p>Unchecked, by choice: the library's failures are either programming errors
 * (a bad parameter, a missing key, a key in the wrong state) or conditions of the
 * key store that a caller rarely handles right where the call is made. Alibaba
 * Cloud's own Java SDK (Tea's {@code TeaException}) and the AWS SDK's
 * {@code SdkException} are unchecked for the same reason, and unchecked
 * exceptions pass through lambdas, streams and executors, where checked ones do
 * not. Catch it where you can act on {@link #getStatus()} or {@link #getCode()}.
 */
public final class KmsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int statusNumber;
    private final String code;
    private final int httpStatus;
    private final String requestId;

    KmsException(int statusNumber, String code, int httpStatus, String message, String requestId) {
        super(message);
        this.statusNumber = statusNumber;
        this.code = code;
        this.httpStatus = httpStatus;
        this.requestId = requestId;
    }

    /** The status, e.g. {@link KmsStatus#KEY_NOT_FOUND}; {@link KmsStatus#UNKNOWN} for a number this wrapper does not know. */
    public KmsStatus getStatus() {
        return KmsStatus.of(statusNumber);
    }

    /** The C status number the call returned, e.g. 200. */
    public int getStatusNumber() {
        return statusNumber;
    }

    /** The service's code, e.g. {@code "Forbidden.KeyNotFound"}. */
    public String getCode() {
        return code;
    }

    /** The service's HTTP status for the code: 400, 403, 404, 409 or 500. */
    public int getHttpStatus() {
        return httpStatus;
    }

    /** The RequestId (a lowercase UUID) of the failed call. */
    public String getRequestId() {
        return requestId;
    }

    /** The library's message, which names the offending parameter or key. */
    @Override
    public String getMessage() {
        return super.getMessage();
    }

    @Override
    public String toString() {
        return "KmsException[" + code + ", HTTP " + httpStatus + ", status " + statusNumber
                + ", RequestId " + requestId + "]: " + getMessage();
    }
}
