/*
 * interop.c: the C side of the Go package's cross-language test
 * (TestInteropWithC in ../localkms_test.go compiles and runs it).
 *
 * Both processes open the same store file with the same master-key file, so they
 * see the same keys; blobs and plaintexts are exchanged as files.
 *
 *   interop encrypt <store> <master-key-file> <key-id> <plaintext-file> <blob-out> [rotate]
 *       AdvanceEncrypts the file's bytes with the key (after a manual rotation
 *       when the last argument is "rotate") and prints the KeyVersionId used.
 *   interop decrypt <store> <master-key-file> <blob-file> <plaintext-out>
 *       AdvanceDecrypts the blob and prints the KeyVersionId that decrypted.
 *
 * Exits 0 on success; on failure prints the status, code and message to stderr
 * and exits 1.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

static void fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n", step,
            (unsigned)status, error->code, (unsigned)error->http_status, error->message,
            error->request_id);
    exit(1);
}

/* Reads a whole file; the caller frees *data. */
static void read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (f == NULL || buf == NULL) {
        perror(path);
        exit(1);
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *bigger = (uint8_t *)realloc(buf, cap * 2);
            if (bigger == NULL) {
                perror("realloc");
                exit(1);
            }
            buf = bigger;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    if (ferror(f)) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *data = buf;
    *len = n;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
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
    options.create_if_missing = 0;
    status = kms_client_open(&options, &client, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_open", status, &error);
    return client;
}

int main(int argc, char **argv)
{
    kms_error error;
    kms_status status;
    kms_client *client;

    memset(&error, 0, sizeof error);
    if (argc >= 7 && strcmp(argv[1], "encrypt") == 0) {
        uint8_t *plaintext = NULL;
        size_t plaintext_len = 0;
        kms_encrypt_response *response = NULL;

        client = open_store(argv[2], argv[3]);
        if (argc >= 8 && strcmp(argv[7], "rotate") == 0) {
            status = kms_key_rotate(client, argv[4], NULL, &error);
            if (status != KMS_STATUS_OK) fail("kms_key_rotate", status, &error);
        }
        read_file(argv[5], &plaintext, &plaintext_len);
        status = kms_advance_encrypt(client, argv[4], plaintext_len ? plaintext : NULL,
                                     plaintext_len, NULL, NULL, 0, NULL, 0, NULL, &response,
                                     &error);
        if (status != KMS_STATUS_OK) fail("kms_advance_encrypt", status, &error);
        write_file(argv[6], response->ciphertext_blob, response->ciphertext_blob_len);
        printf("%s\n", response->key_version_id);
        kms_encrypt_response_free(response);
        free(plaintext);
        kms_client_free(client);
        return 0;
    }
    if (argc >= 6 && strcmp(argv[1], "decrypt") == 0) {
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        kms_decrypt_response *response = NULL;

        client = open_store(argv[2], argv[3]);
        read_file(argv[4], &blob, &blob_len);
        status = kms_advance_decrypt(client, blob_len ? blob : NULL, blob_len, NULL, NULL, NULL,
                                     0, NULL, 0, NULL, &response, &error);
        if (status != KMS_STATUS_OK) fail("kms_advance_decrypt", status, &error);
        write_file(argv[5], response->plaintext, response->plaintext_len);
        printf("%s\n", response->key_version_id);
        kms_decrypt_response_free(response);
        free(blob);
        kms_client_free(client);
        return 0;
    }
    fprintf(stderr,
            "usage: %s encrypt <store> <master-key-file> <key-id> <plaintext-file> <blob-out> "
            "[rotate]\n"
            "       %s decrypt <store> <master-key-file> <blob-file> <plaintext-out>\n",
            argv[0], argv[0]);
    return 2;
}
