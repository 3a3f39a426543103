package com.localkms;

/**
 * The encryption algorithms, in the service's spelling. A key permits only the
 * algorithms it was created with ({@link CreateKeyRequest.Builder#algorithms});
 * by default the GCM of its spec alone, and any other algorithm is
 * {@link KmsStatus#UNSUPPORTED_OPERATION}.
 */
public enum Algorithm {
    /** AES-GCM (the default of AES keys): 12-byte IV, 16-byte tag, optional Aad up to 8192 bytes. */
    AES_GCM,
    /** AES-CBC: 16-byte IV; PKCS7_PADDING (default) or NO_PADDING. No integrity: legacy ciphertext only. */
    AES_CBC,
    /** AES-ECB: no IV; PKCS7_PADDING (default) or NO_PADDING. No integrity: legacy ciphertext only. */
    AES_ECB,
    /** SM4-GCM (the default of Aliyun_SM4 keys): as AES_GCM, with the SM4 block cipher. */
    SM4_GCM,
    /** SM4-CBC: as AES_CBC, with the SM4 block cipher. */
    SM4_CBC,
    /** SM4-ECB: as AES_ECB, with the SM4 block cipher. */
    SM4_ECB
}
