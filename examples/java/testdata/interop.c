/*
 * interop.c: the C side of the Java wrapper's tests (examples/java/).
 *
 * Shares a file-backed key store with the Java test process and exchanges
 * blobs with it as files, so that a blob made in C is decrypted in Java and the
 * other way round. Also prints the C layout of the structs (sizes, and each
 * field's offset and size), which the Java test compares with its JNA Structures.
 *
 *   interop layout
 *   interop encrypt <store> <master-key-file> <key-id> <algorithm> <aad|-> <plaintext-file> <blob-file>
 *   interop decrypt <store> <master-key-file> <aad|-> <blob-file> <plaintext-file>
 *
 * encrypt and decrypt print the KeyVersionId they used on stdout. On failure
 * they print the status, code and message on stderr and exit 1; usage errors
 * exit 2.
 *
 * Built by examples/java/run-tests.sh:
 *   cc -std=c11 -Wall -Wextra -Werror -I<repo>/include interop.c \
 *      -L<lib-dir> -llocalkms -Wl,-rpath,<lib-dir> -o interop
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

/* "struct.field offset size": the field sizes tell, e.g., an int flag from a
 * one-byte bool that the padding after it would hide. */
#define FIELD(type, field)                                                     \
    printf("%s.%s %zu %zu\n", #type, #field, offsetof(struct type, field), \
           sizeof(((struct type *)0)->field))
#define SIZE(type) printf("%s %zu\n", #type, sizeof(struct type))

static int layout(void)
{
    SIZE(kms_error);
    FIELD(kms_error, status);
    FIELD(kms_error, http_status);
    FIELD(kms_error, code);
    FIELD(kms_error, message);
    FIELD(kms_error, request_id);

    SIZE(kms_open_options);
    FIELD(kms_open_options, keystore_path);
    FIELD(kms_open_options, master_key);
    FIELD(kms_open_options, master_key_len);
    FIELD(kms_open_options, master_key_file);
    FIELD(kms_open_options, create_if_missing);
    FIELD(kms_open_options, keystore_url);

    SIZE(kms_encrypt_response);
    FIELD(kms_encrypt_response, ciphertext_blob);
    FIELD(kms_encrypt_response, ciphertext_blob_len);
    FIELD(kms_encrypt_response, key_id);
    FIELD(kms_encrypt_response, key_version_id);
    FIELD(kms_encrypt_response, algorithm);
    FIELD(kms_encrypt_response, iv);
    FIELD(kms_encrypt_response, iv_len);
    FIELD(kms_encrypt_response, padding_mode);
    FIELD(kms_encrypt_response, request_id);

    SIZE(kms_decrypt_response);
    FIELD(kms_decrypt_response, plaintext);
    FIELD(kms_decrypt_response, plaintext_len);
    FIELD(kms_decrypt_response, key_id);
    FIELD(kms_decrypt_response, key_version_id);
    FIELD(kms_decrypt_response, algorithm);
    FIELD(kms_decrypt_response, padding_mode);
    FIELD(kms_decrypt_response, request_id);

    SIZE(kms_data_key_response);
    FIELD(kms_data_key_response, plaintext);
    FIELD(kms_data_key_response, plaintext_len);
    FIELD(kms_data_key_response, ciphertext_blob);
    FIELD(kms_data_key_response, ciphertext_blob_len);
    FIELD(kms_data_key_response, key_id);
    FIELD(kms_data_key_response, key_version_id);
    FIELD(kms_data_key_response, algorithm);
    FIELD(kms_data_key_response, iv);
    FIELD(kms_data_key_response, iv_len);
    FIELD(kms_data_key_response, request_id);

    SIZE(kms_create_key_options);
    FIELD(kms_create_key_options, key_spec);
    FIELD(kms_create_key_options, key_usage);
    FIELD(kms_create_key_options, origin);
    FIELD(kms_create_key_options, description);
    FIELD(kms_create_key_options, key_id);
    FIELD(kms_create_key_options, algorithms);
    return 0;
}

static int fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s\n", step, (unsigned)status,
            error->code, (unsigned)error->http_status, error->message);
    return 1;
}

/* Reads a whole file into a malloc'd buffer (NULL and *len 0 for an empty file). */
static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            unsigned char *bigger = realloc(buf, cap);
            if (bigger == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    if (n == 0) {
        free(buf);
        buf = NULL;
    }
    *data = buf;
    *len = n;
    return 0;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    int ok = len == 0 || fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

static kms_status open_store(const char *store, const char *key_file, kms_client **client,
                             kms_error *err)
{
    kms_open_options options;
    memset(&options, 0, sizeof options);
    options.keystore_path = store;
    options.master_key_file = key_file;
    options.create_if_missing = 0; /* the Java side created it */
    return kms_client_open(&options, client, err);
}

static int do_encrypt(char **argv)
{
    const char *aad = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
    unsigned char *plaintext = NULL;
    size_t plaintext_len = 0;
    if (read_file(argv[5], &plaintext, &plaintext_len) != 0) {
        return 1;
    }
    kms_client *client = NULL;
    kms_error err;
    kms_status st = open_store(argv[0], argv[1], &client, &err);
    if (st != KMS_STATUS_OK) {
        free(plaintext);
        return fail("kms_client_open", st, &err);
    }
    kms_encrypt_response *enc = NULL;
    st = kms_advance_encrypt(client, argv[2], plaintext, plaintext_len, argv[3], NULL, 0,
                             (const uint8_t *)aad, aad ? strlen(aad) : 0, NULL, &enc, &err);
    free(plaintext);
    int rc = 0;
    if (st != KMS_STATUS_OK) {
        rc = fail("kms_advance_encrypt", st, &err);
    } else if (write_file(argv[6], enc->ciphertext_blob, enc->ciphertext_blob_len) != 0) {
        rc = 1;
    } else {
        printf("%s\n", enc->key_version_id);
    }
    kms_encrypt_response_free(enc);
    kms_client_free(client);
    return rc;
}

static int do_decrypt(char **argv)
{
    const char *aad = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    if (read_file(argv[3], &blob, &blob_len) != 0) {
        return 1;
    }
    kms_client *client = NULL;
    kms_error err;
    kms_status st = open_store(argv[0], argv[1], &client, &err);
    if (st != KMS_STATUS_OK) {
        free(blob);
        return fail("kms_client_open", st, &err);
    }
    kms_decrypt_response *dec = NULL;
    st = kms_advance_decrypt(client, blob, blob_len, NULL, NULL, NULL, 0, (const uint8_t *)aad,
                             aad ? strlen(aad) : 0, NULL, &dec, &err);
    free(blob);
    int rc = 0;
    if (st != KMS_STATUS_OK) {
        rc = fail("kms_advance_decrypt", st, &err);
    } else if (write_file(argv[4], dec->plaintext, dec->plaintext_len) != 0) {
        rc = 1;
    } else {
        printf("%s\n", dec->key_version_id);
    }
    kms_decrypt_response_free(dec); /* wipes the plaintext */
    kms_client_free(client);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "layout") == 0) {
        return layout();
    }
    if (argc == 9 && strcmp(argv[1], "encrypt") == 0) {
        return do_encrypt(argv + 2);
    }
    if (argc == 7 && strcmp(argv[1], "decrypt") == 0) {
        return do_decrypt(argv + 2);
    }
    fprintf(stderr,
            "usage: interop layout\n"
            "       interop encrypt <store> <master-key-file> <key-id> <algorithm> <aad|-> "
            "<plaintext-file> <blob-file>\n"
            "       interop decrypt <store> <master-key-file> <aad|-> <blob-file> "
            "<plaintext-file>\n");
    return 2;
}
