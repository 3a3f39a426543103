/*
 * auto_rotation.c: automatic key rotation, tested with a fake clock.
 *
 * kms_update_rotation_policy turns on automatic rotation: once the interval has
 * passed since the last rotation (NextRotationDate = LastRotationDate + interval),
 * the key gets a new primary version when it is next used. AdvanceEncrypt then
 * uses the new version, while blobs made with the old one keep decrypting.
 *
 * Waiting seven days is no way to test that, so this program gives the client its
 * own clock with kms_client_set_clock and moves it forward by hand.
 *
 * It is valid C11 and C++.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

#define DAY ((int64_t)24 * 60 * 60)

/*
 * The fake clock: the time (Unix seconds) the client sees.
 *
 * The library calls the clock from whichever thread is making a call on the
 * client, possibly from several threads at once, so a clock must be thread-safe.
 * This program is single-threaded and only changes `now` between library calls,
 * so a plain read is enough. A multi-threaded program would keep `now` in an
 * atomic (C11 _Atomic int64_t with atomic_load, or std::atomic<int64_t> in C++)
 * or behind a mutex.
 */
typedef struct fake_clock {
    int64_t now;
} fake_clock;

/* A kms_clock_fn: gets back the context given to kms_client_set_clock. */
static int64_t fake_clock_now(void *context)
{
    const fake_clock *fake = (const fake_clock *)context;
    return fake->now;
}

static void fail(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n",
            step, (unsigned)status, error->code, (unsigned)error->http_status,
            error->message, error->request_id);
    exit(EXIT_FAILURE);
}

static void expect(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "unexpected: %s\n", what);
        exit(EXIT_FAILURE);
    }
}

/* AdvanceEncrypts `text` with `key_id`; the caller frees the response. */
static kms_encrypt_response *seal(kms_client *client, const char *key_id, const char *text)
{
    kms_error error;
    kms_encrypt_response *response = NULL;
    kms_status status;

    memset(&error, 0, sizeof error);
    status = kms_advance_encrypt(client, key_id, (const uint8_t *)text, strlen(text), NULL, NULL,
                                 0, NULL, 0, NULL, &response, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_encrypt", status, &error);
    return response;
}

/* DescribeKey as JSON; the caller frees it with kms_string_free. */
static char *describe(kms_client *client, const char *key_id)
{
    kms_error error;
    char *json = NULL;
    kms_status status;

    memset(&error, 0, sizeof error);
    status = kms_describe_key(client, key_id, &json, &error);
    if (status != KMS_STATUS_OK) fail("kms_describe_key", status, &error);
    return json;
}

int main(void)
{
    /* 2026-01-01T00:00:00Z. The context must stay valid while the clock is set:
     * `fake` lives until the end of main, and the system clock is restored (and
     * the client freed) before that. */
    const int64_t start = 1767225600;
    fake_clock fake;
    kms_error error;
    kms_status status;
    kms_client *client = NULL;
    char *key_id = NULL;
    char *json = NULL;
    kms_encrypt_response *blob_a = NULL;
    kms_encrypt_response *later = NULL;
    kms_encrypt_response *blob_b = NULL;
    kms_decrypt_response *opened = NULL;

    memset(&error, 0, sizeof error);
    fake.now = start;

    status = kms_client_open(NULL, &client, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_open", status, &error);

    /* From now on the client reads the time from fake_clock_now(&fake). */
    status = kms_client_set_clock(client, fake_clock_now, &fake, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_set_clock", status, &error);
    printf("set_clock: ok (fake now = %lld, 2026-01-01T00:00:00Z)\n", (long long)fake.now);

    status = kms_create_key(client, NULL, NULL, NULL, "rotated every 7 days", &key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_create_key", status, &error);
    printf("create_key: ok (%s)\n", key_id);

    /* Rotate every 7 days ("7d"; also "<n>h", "<n>m", "<n>s"; 7 to 365 days). */
    status = kms_update_rotation_policy(client, key_id, 1, "7d", &error);
    if (status != KMS_STATUS_OK) fail("kms_update_rotation_policy", status, &error);
    printf("update_rotation_policy: ok (enabled, every 7d)\n");

    json = describe(client, key_id);
    expect(strstr(json, "\"AutomaticRotation\":\"Enabled\"") != NULL,
           "DescribeKey says AutomaticRotation Enabled");
    expect(strstr(json, "\"RotationInterval\":\"604800s\"") != NULL,
           "DescribeKey gives the interval in seconds");
    expect(strstr(json, "\"CreationDate\":\"2026-01-01T00:00:00Z\"") != NULL,
           "the key was created at the fake time");
    printf("describe_key: %s\n", json);
    kms_string_free(json);

    /* Day 0: version A. */
    blob_a = seal(client, key_id, "written on day 0");
    printf("day 0: advance_encrypt: ok (version A = %s)\n", blob_a->key_version_id);

    /* Day 6: the interval has not passed, still version A. */
    fake.now = start + 6 * DAY;
    later = seal(client, key_id, "written on day 6");
    expect(strcmp(later->key_version_id, blob_a->key_version_id) == 0,
           "no rotation before the interval has passed");
    printf("day 6: advance_encrypt: ok (still version A = %s)\n", later->key_version_id);
    kms_encrypt_response_free(later);
    later = NULL;

    /* Day 7 plus one second: the key rotates on this use, version B. */
    fake.now = start + 7 * DAY + 1;
    blob_b = seal(client, key_id, "written on day 7");
    expect(strcmp(blob_b->key_version_id, blob_a->key_version_id) != 0,
           "the key rotated after 7 days");
    printf("day 7 + 1s: advance_encrypt: ok (new version B = %s)\n", blob_b->key_version_id);

    /* The day-0 blob still decrypts, with version A. */
    status = kms_advance_decrypt(client, blob_a->ciphertext_blob, blob_a->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, NULL, 0, NULL, &opened, &error);
    if (status != KMS_STATUS_OK) fail("kms_advance_decrypt of the day-0 blob", status, &error);
    expect(strcmp(opened->key_version_id, blob_a->key_version_id) == 0,
           "the old blob is decrypted with version A");
    expect(opened->plaintext_len == strlen("written on day 0") &&
               memcmp(opened->plaintext, "written on day 0", opened->plaintext_len) == 0,
           "the old blob gives its text back");
    printf("advance_decrypt of the day-0 blob: ok (version A = %s)\n", opened->key_version_id);
    kms_decrypt_response_free(opened);
    opened = NULL;

    json = describe(client, key_id);
    expect(strstr(json, blob_b->key_version_id) != NULL,
           "DescribeKey names version B as primary");
    printf("describe_key after rotation: %s\n", json);
    kms_string_free(json);

    /* A disabled key does not rotate: DescribeKey says "Suspended". */
    status = kms_disable_key(client, key_id, &error);
    if (status != KMS_STATUS_OK) fail("kms_disable_key", status, &error);
    json = describe(client, key_id);
    expect(strstr(json, "\"AutomaticRotation\":\"Suspended\"") != NULL,
           "DescribeKey says AutomaticRotation Suspended for a disabled key");
    printf("describe_key after disable_key: %s\n", json);
    kms_string_free(json);

    /* Even 30 days later no version is added while the key is disabled. */
    fake.now = start + 37 * DAY;
    status = kms_list_key_versions(client, key_id, &json, &error);
    if (status != KMS_STATUS_OK) fail("kms_list_key_versions", status, &error);
    expect(strstr(json, "\"TotalCount\":2") != NULL, "a disabled key does not rotate");
    printf("day 37, disabled: list_key_versions: ok (still 2 versions)\n");
    kms_string_free(json);

    /* NULL restores the system clock; `fake` is no longer used after this. */
    status = kms_client_set_clock(client, NULL, NULL, &error);
    if (status != KMS_STATUS_OK) fail("kms_client_set_clock(NULL)", status, &error);
    printf("set_clock(NULL): ok (system clock restored)\n");

    kms_encrypt_response_free(blob_b);
    kms_encrypt_response_free(blob_a);
    kms_string_free(key_id);
    kms_client_free(client);

    printf("auto_rotation: all steps passed\n");
    return EXIT_SUCCESS;
}
