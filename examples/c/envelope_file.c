/*
 * Envelope encryption of a file of any size with a localkms data key.
 *
 *   envelope_file <store> <master-key-file> encrypt <input> <output>
 *   envelope_file <store> <master-key-file> decrypt <input> <output>
 *
 * The service's advice for data over a few kilobytes: ask KMS for a data key
 * (kms_advance_generate_data_key), encrypt the data locally with it (here
 * AES-256-GCM from OpenSSL, streamed in 64 KiB chunks), keep only the encrypted
 * data key (its blob) next to the data, and wipe the plaintext data key. To
 * decrypt, KMS opens the blob (kms_advance_decrypt) and the data key decrypts
 * the data. Rotating the KMS key later does not touch the file: the blob names
 * the key version that can open it.
 *
 * Output file layout:
 *   "LKMSENV1" | blob length (4 bytes, big-endian) | blob | 12-byte nonce |
 *   ciphertext | 16-byte GCM tag
 * The first 12 + blob-length bytes are authenticated as GCM Aad.
 *
 * The master-key file must exist (mode 0600); the store is created when missing
 * and the KMS key is found by the alias alias/envelope-example.
 *
 * Build: cc -std=c11 envelope_file.c $(pkg-config --cflags --libs localkms libcrypto)
 */
#include <localkms.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIAS "alias/envelope-example"
#define CHUNK (64 * 1024)
#define NONCE_LEN 12
#define TAG_LEN 16
static const char MAGIC[8] = {'L', 'K', 'M', 'S', 'E', 'N', 'V', '1'};
/* Binds the data key to its purpose: the blob opens only with this Aad. */
static const char DATA_KEY_AAD[] = "envelope_file data key";

static int fail_kms(const char *what, kms_status status, const kms_error *err) {
    fprintf(stderr, "%s failed: %s (%u, HTTP %u): %s [RequestId %s]\n", what, err->code,
            (unsigned)status, (unsigned)err->http_status, err->message, err->request_id);
    return 1;
}

static int fail(const char *what) {
    fprintf(stderr, "%s failed\n", what);
    return 1;
}

/* Opens the store and returns the real KeyId behind ALIAS, creating both if needed. */
static int open_store(const char *store, const char *master_key_file, kms_client **client) {
    kms_error err;
    kms_open_options options;
    memset(&options, 0, sizeof options);
    options.keystore_path = store;
    options.master_key_file = master_key_file;
    options.create_if_missing = 1;
    kms_status st = kms_client_open(&options, client, &err);
    if (st != KMS_STATUS_OK) return fail_kms("kms_client_open", st, &err);

    char *json = NULL;
    st = kms_describe_key(*client, ALIAS, &json, &err);
    if (st == KMS_STATUS_OK) {
        kms_string_free(json);
        return 0;
    }
    if (st != KMS_STATUS_ALIAS_NOT_FOUND) return fail_kms("kms_describe_key", st, &err);
    char *key_id = NULL;
    st = kms_create_key(*client, NULL, NULL, NULL, "envelope_file example", &key_id, &err);
    if (st != KMS_STATUS_OK) return fail_kms("kms_create_key", st, &err);
    st = kms_create_alias(*client, ALIAS, key_id, &err);
    kms_string_free(key_id);
    if (st != KMS_STATUS_OK) return fail_kms("kms_create_alias", st, &err);
    return 0;
}

/* Streams `in` through an initialised EVP context into `out`. */
static int stream(EVP_CIPHER_CTX *ctx, int encrypting, FILE *in, FILE *out, long limit) {
    unsigned char *buf = (unsigned char *)malloc(CHUNK);
    unsigned char *outbuf = (unsigned char *)malloc(CHUNK + 16);
    int ok = buf != NULL && outbuf != NULL;
    long remaining = limit;
    while (ok) {
        size_t want = CHUNK;
        if (limit >= 0 && (long)want > remaining) want = (size_t)remaining;
        if (want == 0) break;
        size_t n = fread(buf, 1, want, in);
        if (n == 0) {
            ok = !ferror(in);
            break;
        }
        int outlen = 0;
        ok = (encrypting ? EVP_EncryptUpdate(ctx, outbuf, &outlen, buf, (int)n)
                         : EVP_DecryptUpdate(ctx, outbuf, &outlen, buf, (int)n)) == 1;
        if (ok && outlen > 0) ok = fwrite(outbuf, 1, (size_t)outlen, out) == (size_t)outlen;
        if (limit >= 0) remaining -= (long)n;
    }
    free(buf);
    free(outbuf);
    return ok ? 0 : -1;
}

static int encrypt_file(kms_client *client, FILE *in, FILE *out) {
    kms_error err;
    kms_data_key_response *dk = NULL;
    kms_status st = kms_advance_generate_data_key(client, ALIAS, 32,
                                                  (const uint8_t *)DATA_KEY_AAD,
                                                  strlen(DATA_KEY_AAD), &dk, &err);
    if (st != KMS_STATUS_OK) return fail_kms("kms_advance_generate_data_key", st, &err);

    unsigned char header[12];
    memcpy(header, MAGIC, 8);
    uint32_t blob_len = (uint32_t)dk->ciphertext_blob_len;
    header[8] = (unsigned char)(blob_len >> 24);
    header[9] = (unsigned char)(blob_len >> 16);
    header[10] = (unsigned char)(blob_len >> 8);
    header[11] = (unsigned char)blob_len;
    unsigned char nonce[NONCE_LEN];
    unsigned char tag[TAG_LEN];
    int rc = 1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    /* The nonce may be random: each data key encrypts exactly one file. */
    if (ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
        EVP_EncryptInit_ex(ctx, NULL, NULL, dk->plaintext, NULL) == 1) {
        /* A fresh nonce from the data key's own source would do as well. */
        FILE *urandom = fopen("/dev/urandom", "rb");
        int have_nonce = urandom != NULL && fread(nonce, 1, NONCE_LEN, urandom) == NONCE_LEN;
        if (urandom != NULL) fclose(urandom);
        int outlen = 0;
        if (have_nonce && EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
            EVP_EncryptUpdate(ctx, NULL, &outlen, header, sizeof header) == 1 &&
            EVP_EncryptUpdate(ctx, NULL, &outlen, dk->ciphertext_blob, (int)blob_len) == 1 &&
            fwrite(header, 1, sizeof header, out) == sizeof header &&
            fwrite(dk->ciphertext_blob, 1, blob_len, out) == blob_len &&
            fwrite(nonce, 1, NONCE_LEN, out) == NONCE_LEN && stream(ctx, 1, in, out, -1) == 0 &&
            EVP_EncryptFinal_ex(ctx, tag, &outlen) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1 &&
            fwrite(tag, 1, TAG_LEN, out) == TAG_LEN) {
            rc = 0;
        }
    }
    EVP_CIPHER_CTX_free(ctx); /* also wipes the expanded key */
    printf("encrypted with a data key from %s (blob %u bytes)\n", dk->key_version_id,
           (unsigned)blob_len);
    kms_data_key_response_free(dk); /* wipes the plaintext data key */
    return rc == 0 ? 0 : fail("encrypting the file");
}

static int decrypt_file(kms_client *client, FILE *in, FILE *out) {
    unsigned char header[12];
    if (fread(header, 1, sizeof header, in) != sizeof header || memcmp(header, MAGIC, 8) != 0) {
        return fail("reading the envelope header (not an envelope_file output?)");
    }
    uint32_t blob_len = ((uint32_t)header[8] << 24) | ((uint32_t)header[9] << 16) |
                        ((uint32_t)header[10] << 8) | (uint32_t)header[11];
    if (blob_len == 0 || blob_len > 4096) return fail("reading the blob length");
    unsigned char *blob = (unsigned char *)malloc(blob_len);
    unsigned char nonce[NONCE_LEN];
    if (blob == NULL || fread(blob, 1, blob_len, in) != blob_len ||
        fread(nonce, 1, NONCE_LEN, in) != NONCE_LEN) {
        free(blob);
        return fail("reading the envelope header");
    }
    /* The ciphertext runs up to the tag at the end of the file. */
    long body_start = ftell(in);
    if (body_start < 0 || fseek(in, -TAG_LEN, SEEK_END) != 0) {
        free(blob);
        return fail("finding the tag");
    }
    long body_end = ftell(in);
    unsigned char tag[TAG_LEN];
    if (body_end < body_start || fread(tag, 1, TAG_LEN, in) != TAG_LEN ||
        fseek(in, body_start, SEEK_SET) != 0) {
        free(blob);
        return fail("reading the tag");
    }

    kms_error err;
    kms_decrypt_response *dk = NULL;
    kms_status st = kms_advance_decrypt(client, blob, blob_len, NULL, NULL, NULL, 0,
                                        (const uint8_t *)DATA_KEY_AAD, strlen(DATA_KEY_AAD),
                                        NULL, &dk, &err);
    if (st != KMS_STATUS_OK) {
        free(blob);
        return fail_kms("kms_advance_decrypt of the data key", st, &err);
    }
    int rc = 1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outlen = 0;
    unsigned char final_block[16];
    if (ctx != NULL && dk->plaintext_len == 32 &&
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, dk->plaintext, nonce) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &outlen, header, sizeof header) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &outlen, blob, (int)blob_len) == 1 &&
        stream(ctx, 0, in, out, body_end - body_start) == 0 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
        EVP_DecryptFinal_ex(ctx, final_block, &outlen) == 1) {
        rc = 0;
    }
    EVP_CIPHER_CTX_free(ctx);
    printf("opened the data key (version %s)\n", dk->key_version_id);
    kms_decrypt_response_free(dk); /* wipes the plaintext data key */
    free(blob);
    /* A real program writes to a temporary file and renames it only now, so
       that unauthenticated plaintext never stands as the output. */
    return rc == 0 ? 0 : fail("decrypting the file (wrong key, or the file was changed)");
}

int main(int argc, char **argv) {
    if (argc != 6 || (strcmp(argv[3], "encrypt") != 0 && strcmp(argv[3], "decrypt") != 0)) {
        fprintf(stderr, "usage: %s <store> <master-key-file> encrypt|decrypt <input> <output>\n",
                argv[0]);
        return 2;
    }
    kms_client *client = NULL;
    if (open_store(argv[1], argv[2], &client) != 0) {
        kms_client_free(client);
        return 1;
    }
    FILE *in = fopen(argv[4], "rb");
    FILE *out = fopen(argv[5], "wb");
    int rc;
    if (in == NULL || out == NULL) {
        rc = fail("opening the input or output file");
    } else if (strcmp(argv[3], "encrypt") == 0) {
        rc = encrypt_file(client, in, out);
    } else {
        rc = decrypt_file(client, in, out);
    }
    if (in != NULL) fclose(in);
    if (out != NULL && fclose(out) != 0) rc = fail("closing the output");
    kms_client_free(client);
    if (rc == 0) printf("envelope_file %s: done\n", argv[3]);
    return rc;
}
