/*
 * interop.c: the C side of the Python binding's tests (tests/test_localkms.py).
 *
 *   interop layout
 *       prints "struct size" and "struct.field offset size" lines: sizeof of
 *       every struct in localkms.h and offsetof and sizeof of each field, so the
 *       test can compare them with the ctypes Structures (the field sizes tell,
 *       e.g., an int flag from a one-byte bool that padding would hide).
 *   interop encrypt STORE MASTER_KEY_FILE KEY_ID IN_FILE OUT_FILE [AAD]
 *       AdvanceEncrypts IN_FILE into OUT_FILE; prints the KeyVersionId.
 *   interop rotate-encrypt STORE MASTER_KEY_FILE KEY_ID IN_FILE OUT_FILE [AAD]
 *       rotates the key first (kms_key_rotate), then as encrypt.
 *   interop decrypt STORE MASTER_KEY_FILE IN_FILE OUT_FILE [AAD]
 *       AdvanceDecrypts IN_FILE into OUT_FILE; prints the KeyVersionId.
 *
 * STORE is an existing key-store file shared with the Python process. Failures
 * print "code (HTTP n): message" to stderr and exit 1; bad usage exits 2.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

#define FIELD(type, field)                                                  \
    printf("%s.%s %zu %zu\n", #type, #field, (size_t)offsetof(type, field), \
           sizeof(((type *)0)->field))
#define SIZE(type) printf("%s %zu\n", #type, sizeof(type))

static void layout(void)
{
    SIZE(kms_open_options);
    FIELD(kms_open_options, keystore_path);
    FIELD(kms_open_options, master_key);
    FIELD(kms_open_options, master_key_len);
    FIELD(kms_open_options, master_key_file);
    FIELD(kms_open_options, create_if_missing);
    FIELD(kms_open_options, keystore_url);

    SIZE(kms_error);
    FIELD(kms_error, status);
    FIELD(kms_error, http_status);
    FIELD(kms_error, code);
    FIELD(kms_error, message);
    FIELD(kms_error, request_id);

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
}

static void fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, %s (HTTP %u): %s [RequestId %s]\n", step,
            (unsigned)status, error->code, (unsigned)error->http_status, error->message,
            error->request_id);
    exit(1);
}

/* Reads a whole file; the caller frees *data. */
static void read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *file = fopen(path, "rb");
    size_t capacity = 4096, used = 0, got;
    uint8_t *buffer = (uint8_t *)malloc(capacity);

    if (file == NULL || buffer == NULL) {
        perror(path);
        exit(1);
    }
    while ((got = fread(buffer + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity) {
            capacity *= 2;
            buffer = (uint8_t *)realloc(buffer, capacity);
            if (buffer == NULL) {
                perror("realloc");
                exit(1);
            }
        }
    }
    if (ferror(file)) {
        perror(path);
        exit(1);
    }
    fclose(file);
    *data = buffer;
    *len = used;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *file = fopen(path, "wb");

    if (file == NULL || (len > 0 && fwrite(data, 1, len, file) != len) || fclose(file) != 0) {
        perror(path);
        exit(1);
    }
}

static kms_client *open_store(const char *store, const char *master_key_file)
{
    kms_open_options options;
    kms_client *client = NULL;
    kms_error error;
    kms_status status;

    memset(&options, 0, sizeof options);
    memset(&error, 0, sizeof error);
    options.keystore_path = store;
    options.master_key_file = master_key_file;
    options.create_if_missing = 0; /* the Python side created it */
    status = kms_client_open(&options, &client, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_open", status, &error);
    return client;
}

static int encrypt(int argc, char **argv, int rotate)
{
    kms_client *client;
    kms_encrypt_response *response = NULL;
    kms_error error;
    kms_status status;
    uint8_t *plaintext;
    size_t plaintext_len;
    const char *aad = argc > 7 ? argv[7] : NULL;

    if (argc < 7 || argc > 8) return 2;
    memset(&error, 0, sizeof error);
    client = open_store(argv[2], argv[3]);
    if (rotate) {
        status = kms_key_rotate(client, argv[4], NULL, &error);
        if (status != KMS_STATUS_OK) fail("kms_key_rotate", status, &error);
    }
    read_file(argv[5], &plaintext, &plaintext_len);
    status = kms_advance_encrypt(client, argv[4], plaintext_len ? plaintext : NULL, plaintext_len,
                                 NULL, NULL, 0, (const uint8_t *)aad, aad ? strlen(aad) : 0, NULL,
                                 &response, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt", status, &error);
    write_file(argv[6], response->ciphertext_blob, response->ciphertext_blob_len);
    printf("%s\n", response->key_version_id);
    memset(plaintext, 0, plaintext_len);
    free(plaintext);
    kms_encrypt_response_free(response);
    kms_client_free(client);
    return 0;
}

static int decrypt(int argc, char **argv)
{
    kms_client *client;
    kms_decrypt_response *response = NULL;
    kms_error error;
    kms_status status;
    uint8_t *blob;
    size_t blob_len;
    const char *aad = argc > 6 ? argv[6] : NULL;

    if (argc < 6 || argc > 7) return 2;
    memset(&error, 0, sizeof error);
    client = open_store(argv[2], argv[3]);
    read_file(argv[4], &blob, &blob_len);
    status = kms_advance_decrypt(client, blob, blob_len, NULL, NULL, NULL, 0, (const uint8_t *)aad,
                                 aad ? strlen(aad) : 0, NULL, &response, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_decrypt", status, &error);
    write_file(argv[5], response->plaintext, response->plaintext_len);
    printf("%s\n", response->key_version_id);
    free(blob);
    kms_decrypt_response_free(response);
    kms_client_free(client);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;

    if (argc >= 2 && strcmp(argv[1], "layout") == 0 && argc == 2) {
        layout();
        rc = 0;
    } else if (argc >= 2 && strcmp(argv[1], "encrypt") == 0) {
        rc = encrypt(argc, argv, 0);
    } else if (argc >= 2 && strcmp(argv[1], "rotate-encrypt") == 0) {
        rc = encrypt(argc, argv, 1);
    } else if (argc >= 2 && strcmp(argv[1], "decrypt") == 0) {
        rc = decrypt(argc, argv);
    }
    if (rc == 2) {
        fprintf(stderr, "usage: interop layout | encrypt|rotate-encrypt STORE MASTER_KEY_FILE "
                        "KEY_ID IN OUT [AAD] | decrypt STORE MASTER_KEY_FILE IN OUT [AAD]\n");
    }
    return rc;
}
