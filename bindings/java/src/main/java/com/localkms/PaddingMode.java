package com.localkms;

/** Padding for {@link Algorithm#AES_CBC} and {@link Algorithm#AES_ECB}, in the service's spelling. */
public enum PaddingMode {
    /** PKCS#7 padding (the default for the block modes). */
    PKCS7_PADDING,
    /** No padding: the plaintext length must be a non-zero multiple of 16. */
    NO_PADDING
}
