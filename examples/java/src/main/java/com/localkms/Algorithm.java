package com.localkms;

/** The encryption algorithms, in the service's spelling. */
public enum Algorithm {
    /** AES-GCM (the default): 12-byte IV, 16-byte tag, optional Aad up to 8192 bytes. */
    AES_GCM,
    /** AES-CBC: 16-byte IV; PKCS7_PADDING (default) or NO_PADDING. */
    AES_CBC,
    /** AES-ECB: no IV; PKCS7_PADDING (default) or NO_PADDING. */
    AES_ECB
}
