/*
 * error_handling.c: how localkms reports errors, and how to handle them.
 *
 * Every fallible function returns a kms_status. KMS_STATUS_OK (0) is success;
 * anything else is one of the service's error codes. When the last argument, a
 * kms_error, is not NULL the library fills it on failure with:
 *
 *   status       the same kms_status the call returned,
 *   http_status  the HTTP status the real service answers with (400, 404, 409, ...),
 *   code         the service's code string, e.g. "Forbidden.KeyNotFound",
 *   message      a message for people that names the offending parameter or key,
 *   request_id   the RequestId (a UUID) of the failed call.
 *
 * On failure no output is written: a response pointer you set to NULL stays NULL,
 * so there is nothing to free. On success the kms_error is left alone.
 *
 * kms_status_code() and kms_status_http_status() give the code string and the HTTP
 * status of any status number without making a call.
 *
 * This program provokes each common error on purpose, checks that it got the
 * documented status, and exits non-zero if any case behaves otherwise.
 * It is valid C11 and C++.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

/* Number of cases that did not behave as documented. */
static int failures = 0;

/* Ends the program when a call that should succeed fails. */
static void fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n",
            step, (unsigned)status, error->code, (unsigned)error->http_status,
            error->message, error->request_id);
    exit(EXIT_FAILURE);
}

/* Records a case that did not behave as documented. */
static void mismatch(const char *label, const char *what)
{
    fprintf(stderr, "%s: %s\n", label, what);
    failures++;
}

/*
 * Checks one failed call: the returned status, the filled kms_error, and that the
 * output pointer was not written. Prints a line such as
 *   KEY_NOT_FOUND: Forbidden.KeyNotFound (404) The specified Key is not found. [RequestId ...]
 */
static void check_error(const char *label, kms_status got, const kms_error *error,
                        kms_status want, const char *want_code, unsigned want_http,
                        const void *response_out)
{
    if (got != want) {
        fprintf(stderr, "%s: expected status %u (%s), got %u (%s): %s\n", label,
                (unsigned)want, kms_status_code(want), (unsigned)got, kms_status_code(got),
                error->message);
        failures++;
        return;
    }
    printf("%s: %s (%u) %s [RequestId %s]\n", label, error->code,
           (unsigned)error->http_status, error->message, error->request_id);

    if (error->status != got) mismatch(label, "kms_error.status differs from the result");
    if (strcmp(error->code, want_code) != 0) mismatch(label, "unexpected code string");
    if (error->http_status != want_http) mismatch(label, "unexpected HTTP status");
    /* The same facts are available for any status without a kms_error: */
    if (strcmp(kms_status_code(got), error->code) != 0)
        mismatch(label, "kms_status_code() differs from kms_error.code");
    if (kms_status_http_status(got) != error->http_status)
        mismatch(label, "kms_status_http_status() differs from kms_error.http_status");
    if (strlen(error->request_id) != 36) mismatch(label, "the RequestId is not a UUID");
    if (error->message[0] == '\0') mismatch(label, "the message is empty");
    /* Outputs are written only on success. */
    if (response_out != NULL) mismatch(label, "the output was written on failure");
}

int main(void)
{
    static const uint8_t message[] = "card 4111-1111-1111-1111";
    static const uint8_t aad[] = "order=1234";
    static const uint8_t wrong_aad[] = "order=9999";
    static const uint8_t short_iv[5] = {1, 2, 3, 4, 5};
    /* A well-formed KeyId (key- and 21 characters) that no key has. */
    const char *missing_key = "key-doesnotexist000000000";

    kms_error error;
    kms_status status;
    kms_client *client = NULL;
    char *key_id = NULL;
    char *disabled_key_id = NULL;
    char *ec_key_id = NULL;
    kms_encrypt_response *sealed = NULL;
    kms_encrypt_response *encrypted = NULL;
    kms_decrypt_response *opened = NULL;
    char expected_message[KMS_ERROR_MESSAGE_SIZE];

    memset(&error, 0, sizeof error);

    status = kms_client_open(NULL, &client, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_open", status, &error);
    status = kms_create_key(client, NULL, NULL, NULL, NULL, &key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_create_key", status, &error);
    /* Keep the trailing NUL out of the plaintext and Aad: sizeof - 1. */
    status = kms_advance_encrypt(client, key_id, message, sizeof message - 1, NULL, NULL, 0,
                                 aad, sizeof aad - 1, NULL, &sealed, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt", status, &error);
    printf("setup: ok (key %s, blob of %zu bytes bound to Aad \"%s\")\n", key_id,
           sealed->ciphertext_blob_len, (const char *)aad);

    /* 1. A key that does not exist: Forbidden.KeyNotFound, HTTP 404. */
    encrypted = NULL;
    status = kms_advance_encrypt(client, missing_key, message, sizeof message - 1, NULL, NULL,
                                 0, NULL, 0, NULL, &encrypted, &error);
    check_error("KEY_NOT_FOUND", status, &error, KMS_STATUS_KEY_NOT_FOUND,
                "Forbidden.KeyNotFound", 404, encrypted);

    /* 2. The wrong Aad: authentication fails. Every way a ciphertext can fail
     *    (bad tag, wrong Aad, truncated blob, bad padding) is the same
     *    InvalidCiphertext, so that errors reveal nothing about the plaintext. */
    opened = NULL;
    status = kms_advance_decrypt(client, sealed->ciphertext_blob, sealed->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, wrong_aad, sizeof wrong_aad - 1, NULL,
                                 &opened, &error);
    check_error("INVALID_CIPHERTEXT", status, &error, KMS_STATUS_INVALID_CIPHERTEXT,
                "InvalidCiphertext", 400, opened);

    /* 3. A malformed parameter: AES_GCM takes a 12-byte IV, not 5 bytes. */
    encrypted = NULL;
    status = kms_advance_encrypt(client, key_id, message, sizeof message - 1, "AES_GCM",
                                 short_iv, sizeof short_iv, NULL, 0, NULL, &encrypted, &error);
    check_error("INVALID_PARAMETER", status, &error, KMS_STATUS_INVALID_PARAMETER,
                "InvalidParameter", 400, encrypted);

    /* 4. A required argument left NULL: MissingParameter. */
    encrypted = NULL;
    status = kms_advance_encrypt(client, NULL, message, sizeof message - 1, NULL, NULL, 0,
                                 NULL, 0, NULL, &encrypted, &error);
    check_error("MISSING_PARAMETER", status, &error, KMS_STATUS_MISSING_PARAMETER,
                "MissingParameter", 400, encrypted);

    /* 5. A disabled key neither encrypts nor decrypts: Rejected.Disabled, 409.
     *    Enabling it again makes it usable. */
    status = kms_create_key(client, NULL, NULL, NULL, "to be disabled", &disabled_key_id,
                            &error);
    if (status != KMS_STATUS_OK) fail("kms_create_key", status, &error);
    status = kms_disable_key(client, disabled_key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_disable_key", status, &error);
    encrypted = NULL;
    status = kms_advance_encrypt(client, disabled_key_id, message, sizeof message - 1, NULL,
                                 NULL, 0, NULL, 0, NULL, &encrypted, &error);
    check_error("KEY_DISABLED", status, &error, KMS_STATUS_KEY_DISABLED, "Rejected.Disabled",
                409, encrypted);
    status = kms_enable_key(client, disabled_key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_enable_key", status, &error);
    status = kms_advance_encrypt(client, disabled_key_id, message, sizeof message - 1, NULL,
                                 NULL, 0, NULL, 0, NULL, &encrypted, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt after kms_enable_key", status,
                                      &error);
    printf("KEY_DISABLED: after kms_enable_key the key encrypts again\n");
    kms_encrypt_response_free(encrypted);
    encrypted = NULL;

    /* 6. An asymmetric key (here EC_P256, for SIGN/VERIFY) cannot be used by the
     *    symmetric operations. The message is the service's own wording. */
    status = kms_create_key(client, "EC_P256", NULL, NULL, NULL, &ec_key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_create_key EC_P256", status, &error);
    encrypted = NULL;
    status = kms_advance_encrypt(client, ec_key_id, message, sizeof message - 1, NULL, NULL, 0,
                                 NULL, 0, NULL, &encrypted, &error);
    check_error("ONLY_SYMMETRIC_KEY_SUPPORTED", status, &error,
                KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED, "Forbidden.OnlySymmetricKeySupported",
                404, encrypted);
    snprintf(expected_message, sizeof expected_message,
             "The key %s is not a symmetric key. The API only supports symmetric keys.",
             ec_key_id);
    if (status == KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED &&
        strcmp(error.message, expected_message) != 0)
        mismatch("ONLY_SYMMETRIC_KEY_SUPPORTED", "unexpected message");

    /* 7. The kms_error argument may be NULL when only the status matters. */
    status = kms_advance_encrypt(client, missing_key, message, sizeof message - 1, NULL, NULL,
                                 0, NULL, 0, NULL, &encrypted, NULL);
    if (status != KMS_STATUS_KEY_NOT_FOUND || encrypted != NULL)
        mismatch("NULL kms_error", "expected KMS_STATUS_KEY_NOT_FOUND and no output");
    else
        printf("NULL kms_error: the status alone is %s (%u)\n", kms_status_code(status),
               (unsigned)kms_status_http_status(status));

    /* 8. A successful call leaves the kms_error alone: here it still holds the
     *    ONLY_SYMMETRIC_KEY_SUPPORTED error of case 6. So look at the returned
     *    status, not at the kms_error, to tell success from failure. */
    status = kms_advance_decrypt(client, sealed->ciphertext_blob, sealed->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, aad, sizeof aad - 1, NULL, &opened,
                                 &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_decrypt with the right Aad", status, &error);
    if (opened->plaintext_len != sizeof message - 1 ||
        memcmp(opened->plaintext, message, sizeof message - 1) != 0)
        mismatch("OK", "the right Aad did not give the message back");
    if (error.status != KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED)
        mismatch("OK", "a successful call changed the kms_error");
    printf("OK: the right Aad decrypts (version %s); the kms_error was left alone\n",
           opened->key_version_id);
    kms_decrypt_response_free(opened);
    opened = NULL;

    /* 9. kms_status_code() and kms_status_http_status() work for any number. */
    printf("status table: %u=%s/%u %u=%s/%u %u=%s/%u 9999=%s/%u\n",
           (unsigned)KMS_STATUS_OK, kms_status_code(KMS_STATUS_OK),
           (unsigned)kms_status_http_status(KMS_STATUS_OK),
           (unsigned)KMS_STATUS_KEY_PENDING_DELETION,
           kms_status_code(KMS_STATUS_KEY_PENDING_DELETION),
           (unsigned)kms_status_http_status(KMS_STATUS_KEY_PENDING_DELETION),
           (unsigned)KMS_STATUS_INTERNAL_FAILURE, kms_status_code(KMS_STATUS_INTERNAL_FAILURE),
           (unsigned)kms_status_http_status(KMS_STATUS_INTERNAL_FAILURE),
           kms_status_code((kms_status)9999), (unsigned)kms_status_http_status((kms_status)9999));
    if (strcmp(kms_status_code(KMS_STATUS_OK), "OK") != 0 ||
        kms_status_http_status(KMS_STATUS_OK) != 200)
        mismatch("status table", "KMS_STATUS_OK is not OK/200");
    if (strcmp(kms_status_code(KMS_STATUS_KEY_PENDING_DELETION), "Rejected.PendingDeletion") !=
            0 ||
        kms_status_http_status(KMS_STATUS_KEY_PENDING_DELETION) != 409)
        mismatch("status table", "KMS_STATUS_KEY_PENDING_DELETION is not "
                                 "Rejected.PendingDeletion/409");
    /* A number from elsewhere (a log, another process) is cast to kms_status. */
    if (strcmp(kms_status_code((kms_status)9999), "Unknown") != 0 || kms_status_http_status((kms_status)9999) != 0)
        mismatch("status table", "an unknown number is not Unknown/0");

    /* Free every output, then the client. */
    kms_encrypt_response_free(sealed);
    kms_string_free(ec_key_id);
    kms_string_free(disabled_key_id);
    kms_string_free(key_id);
    kms_client_free(client);

    if (failures != 0) {
        fprintf(stderr, "error_handling: %d case(s) did not behave as documented\n", failures);
        return EXIT_FAILURE;
    }
    printf("error_handling: all cases behaved as documented\n");
    return EXIT_SUCCESS;
}
