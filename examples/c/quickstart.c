/*
 * quickstart.c: the first steps with localkms.
 *
 * localkms is an offline, in-process re-implementation of the symmetric
 * encryption API of Alibaba Cloud KMS. This program walks through the calls most
 * applications need:
 *
 *   1. open a client on an in-memory key store,
 *   2. create a key and give it an alias,
 *   3. AdvanceEncrypt / AdvanceDecrypt (the blob carries everything needed to
 *      decrypt it, including the key version),
 *   4. rotate the key and see that old blobs still decrypt,
 *   5. Encrypt / Decrypt (always the key's initial version; the caller keeps the
 *      key id, algorithm and IV),
 *   6. DescribeKey.
 *
 * Build (from the repository root, after `cargo build --release`):
 *
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/quickstart.c \
 *      -Ltarget/release -llocalkms -o quickstart
 *
 * or simply `make quickstart`. It is valid C11 and C++.
 *
 * Rules that hold for every call (see include/localkms.h):
 *   - every fallible function returns a kms_status; KMS_STATUS_OK is 0;
 *   - on failure it fills the kms_error passed last (which may be NULL);
 *   - outputs are allocated by the library and must be freed with the matching
 *     kms_*_free function, never with free().
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

/*
 * Prints what went wrong and ends the program. A real application would clean up
 * and report the error to its caller; an example can simply stop.
 */
static void fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n",
            step, (unsigned)status, error->code, (unsigned)error->http_status,
            error->message, error->request_id);
    exit(EXIT_FAILURE);
}

/* Ends the program when a condition the example relies on does not hold. */
static void expect(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "unexpected: %s\n", what);
        exit(EXIT_FAILURE);
    }
}

/* Writes bytes as lowercase hex, for display. */
static void print_hex(const uint8_t *bytes, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        printf("%02x", (unsigned)bytes[i]);
    }
}

int main(void)
{
    const char *alias = "alias/quickstart";
    const char *message = "Hello from localkms!";
    const uint8_t *plaintext = (const uint8_t *)message;
    const size_t plaintext_len = strlen(message);

    kms_error error;
    kms_status status;
    kms_client *client = NULL;
    char *key_id = NULL;
    char *rotated_version = NULL;
    char *description = NULL;
    kms_encrypt_response *first = NULL;   /* AdvanceEncrypt before rotation */
    kms_encrypt_response *second = NULL;  /* AdvanceEncrypt after rotation  */
    kms_encrypt_response *classic = NULL; /* Encrypt (initial version)      */
    kms_decrypt_response *opened = NULL;

    /* kms_error is filled only on failure; clearing it keeps printing safe. */
    memset(&error, 0, sizeof error);

    printf("localkms %s\n", kms_version());

    /* 1. Open a client. NULL options: an in-memory store that goes away with the
     *    client. (To set options, zero a kms_open_options with memset first.) */
    status = kms_client_open(NULL, &client, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_open", status, &error);
    printf("open: ok (in-memory key store)\n");

    /* 2. Create a key: NULL spec/usage/origin give an Aliyun_AES_256 key for
     *    ENCRYPT/DECRYPT made by KMS. The KeyId is ours to free. */
    status = kms_create_key(client, NULL, NULL, NULL, "quickstart example key", &key_id,
                            &error);
    if (status != KMS_STATUS_OK) fail("kms_create_key", status, &error);
    printf("create_key: ok (%s)\n", key_id);

    /* An alias can be used wherever a KeyId is. */
    status = kms_create_alias(client, alias, key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_create_alias", status, &error);
    printf("create_alias: ok (%s -> %s)\n", alias, key_id);

    /* 3. AdvanceEncrypt with the key's primary version. NULL algorithm: AES_GCM;
     *    NULL IV: a fresh random one (advised); no Aad; NULL padding (GCM has none). */
    status = kms_advance_encrypt(client, alias, plaintext, plaintext_len, NULL, NULL, 0, NULL,
                                 0, NULL, &first, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt", status, &error);
    /* The response names the real KeyId even though we passed the alias. */
    expect(strcmp(first->key_id, key_id) == 0, "the response names the real KeyId");
    printf("advance_encrypt: ok (version %s, %s, %zu-byte blob, iv ", first->key_version_id,
           first->algorithm, first->ciphertext_blob_len);
    print_hex(first->iv, first->iv_len);
    printf(")\n");

    /* AdvanceDecrypt needs nothing but the blob (and the Aad, had we given one):
     * key_id, algorithm, IV and padding stay NULL. */
    status = kms_advance_decrypt(client, first->ciphertext_blob, first->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, NULL, 0, NULL, &opened, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_decrypt", status, &error);
    expect(opened->plaintext_len == plaintext_len &&
               memcmp(opened->plaintext, plaintext, plaintext_len) == 0,
           "the decrypted text equals the message");
    expect(strcmp(opened->key_version_id, first->key_version_id) == 0,
           "AdvanceDecrypt names the version that encrypted");
    printf("advance_decrypt: ok (version %s, \"%.*s\")\n", opened->key_version_id,
           (int)opened->plaintext_len, (const char *)opened->plaintext);
    /* The free function wipes the plaintext before releasing it. */
    kms_decrypt_response_free(opened);
    opened = NULL;

    /* 4. Rotate: a new version with fresh key material becomes primary. The new
     *    KeyVersionId is returned (pass NULL if you do not need it). */
    status = kms_key_rotate(client, alias, &rotated_version, &error);
    if (status != KMS_STATUS_OK) fail("kms_key_rotate", status, &error);
    printf("key_rotate: ok (new primary version %s)\n", rotated_version);

    status = kms_advance_encrypt(client, alias, plaintext, plaintext_len, NULL, NULL, 0, NULL,
                                 0, NULL, &second, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt after rotation", status, &error);
    expect(strcmp(second->key_version_id, rotated_version) == 0,
           "AdvanceEncrypt uses the new primary version");
    expect(strcmp(second->key_version_id, first->key_version_id) != 0,
           "the new version differs from the old one");
    printf("advance_encrypt after rotation: ok (version %s, was %s)\n",
           second->key_version_id, first->key_version_id);

    /* The old blob still decrypts: it records the version that made it. */
    status = kms_advance_decrypt(client, first->ciphertext_blob, first->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, NULL, 0, NULL, &opened, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_decrypt of the old blob", status, &error);
    expect(opened->plaintext_len == plaintext_len &&
               memcmp(opened->plaintext, plaintext, plaintext_len) == 0,
           "the old blob decrypts to the message");
    expect(strcmp(opened->key_version_id, first->key_version_id) == 0,
           "the old blob is decrypted with the old version");
    printf("advance_decrypt of the old blob: ok (version %s)\n", opened->key_version_id);
    kms_decrypt_response_free(opened);
    opened = NULL;

    /* 5. Encrypt always uses the key's initial version, whatever rotations
     *    happened, and returns the bare ciphertext (AES_GCM: ciphertext || tag).
     *    Keep the KeyId, algorithm, IV and padding mode to decrypt it. */
    status = kms_encrypt(client, alias, plaintext, plaintext_len, NULL, NULL, 0, NULL, 0, NULL,
                         &classic, &error);
    if (status != KMS_STATUS_OK) fail("kms_encrypt", status, &error);
    expect(strcmp(classic->key_version_id, first->key_version_id) == 0,
           "Encrypt uses the initial version");
    printf("encrypt: ok (initial version %s, %s, %zu-byte ciphertext)\n",
           classic->key_version_id, classic->algorithm, classic->ciphertext_blob_len);

    status = kms_decrypt(client, classic->ciphertext_blob, classic->ciphertext_blob_len,
                         classic->key_id, classic->algorithm, classic->iv, classic->iv_len,
                         NULL, 0, classic->padding_mode, &opened, &error);
    if (status != KMS_STATUS_OK) fail("kms_decrypt", status, &error);
    expect(opened->plaintext_len == plaintext_len &&
               memcmp(opened->plaintext, plaintext, plaintext_len) == 0,
           "Decrypt returns the message");
    expect(strcmp(opened->key_version_id, first->key_version_id) == 0,
           "Decrypt uses the initial version");
    printf("decrypt: ok (version %s)\n", opened->key_version_id);
    kms_decrypt_response_free(opened);
    opened = NULL;

    /* 6. DescribeKey returns a JSON document with the service's field names. */
    status = kms_describe_key(client, alias, &description, &error);
    if (status != KMS_STATUS_OK) fail("kms_describe_key", status, &error);
    expect(strstr(description, rotated_version) != NULL,
           "DescribeKey names the new primary version");
    printf("describe_key: %s\n", description);

    /* Free every output with its own function, then the client. */
    kms_string_free(description);
    kms_encrypt_response_free(classic);
    kms_encrypt_response_free(second);
    kms_encrypt_response_free(first);
    kms_string_free(rotated_version);
    kms_string_free(key_id);
    kms_client_free(client);

    printf("quickstart: all steps passed\n");
    return EXIT_SUCCESS;
}
