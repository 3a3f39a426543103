/* A hostile C caller of localkms, built with -fsanitize=address,undefined and run
 * by `make sanitize` (and CI, scripts/assurance.sh): NULL for every pointer,
 * lengths no buffer has, strings that are not UTF-8 or longer than any field,
 * error structs full of garbage, every free function on NULL. Every call must
 * answer a status with a filled-in error (or, for the free functions, nothing),
 * never crash, read out of bounds or leak (LeakSanitizer runs at exit).
 *
 * Prints one line per group and "hostile_caller: N checks passed" at the end;
 * exits 1 at the first failed check.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localkms.h"

static int checks;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        checks++;                                                               \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* An error struct as an uninitialised stack leaves it: garbage everywhere. */
static void garbage(kms_error *e) { memset(e, 0xA5, sizeof *e); }

/* Whether `s` is NUL-terminated within its `n` bytes. */
static int terminated(const char *s, size_t n) { return memchr(s, 0, n) != NULL; }

/* A failed call's error: the status returned, its HTTP status and code string,
   a message, a 36-character RequestId, every string terminated in its field. */
static void check_error(kms_status got, kms_status expected, const kms_error *e, const char *what) {
    CHECK(got == expected, "%s: status %d, expected %d", what, (int)got, (int)expected);
    CHECK(e->status == expected, "%s: error.status %d", what, (int)e->status);
    CHECK(e->http_status == kms_status_http_status(expected), "%s: http %u", what, e->http_status);
    CHECK(terminated(e->code, sizeof e->code), "%s: code unterminated", what);
    CHECK(terminated(e->message, sizeof e->message), "%s: message unterminated", what);
    CHECK(terminated(e->request_id, sizeof e->request_id), "%s: request id unterminated", what);
    CHECK(strcmp(e->code, kms_status_code(expected)) == 0, "%s: code %s", what, e->code);
    CHECK(strlen(e->message) > 0, "%s: empty message", what);
    CHECK(strlen(e->request_id) == 36, "%s: request id %s", what, e->request_id);
}

/* A failed call whose exact status depends on the store: any failure, filled in. */
static void check_some_error(kms_status got, const kms_error *e, const char *what) {
    CHECK(got != KMS_STATUS_OK, "%s: succeeded", what);
    check_error(got, got, e, what);
}

static void free_functions_take_null(void) {
    kms_client_free(NULL);
    kms_encrypt_response_free(NULL);
    kms_decrypt_response_free(NULL);
    kms_data_key_response_free(NULL);
    kms_string_free(NULL);
    checks++;
    puts("every free function on NULL: no-op");
}

static void static_functions(void) {
    CHECK(kms_version() != NULL && strlen(kms_version()) > 0, "version");
    /* Numbers no status has: a string all the same, never NULL. */
    int odd[] = {-1, 1, 99, 106, 499, 501, 65535, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        CHECK(kms_status_code((kms_status)odd[i]) != NULL, "code of %d", odd[i]);
        (void)kms_status_http_status((kms_status)odd[i]);
    }
    puts("kms_version, kms_status_code and kms_status_http_status on any number");
}

static kms_client *open_memory(void) {
    kms_client *client = NULL;
    kms_error e;
    garbage(&e);
    kms_status s = kms_client_open(NULL, &client, &e);
    CHECK(s == KMS_STATUS_OK && client != NULL, "open: %d", (int)s);
    CHECK(e.status == 0xA5A5A5A5u, "success left the error alone");
    return client;
}

static void hostile_open(void) {
    kms_error e;
    kms_client *client = (kms_client *)0x1; /* never written on failure */
    garbage(&e);
    check_error(kms_client_open(NULL, NULL, &e), KMS_STATUS_MISSING_PARAMETER, &e, "open NULL out");
    CHECK(client == (kms_client *)0x1, "output written on failure");

    kms_open_options o;
    memset(&o, 0, sizeof o);
    o.master_key = (const uint8_t *)"short";
    o.master_key_len = 5;
    o.keystore_path = "/nonexistent-dir/store.db";
    garbage(&e);
    check_error(kms_client_open(&o, &client, &e), KMS_STATUS_INVALID_PARAMETER, &e, "5-byte master key");

    o.master_key = NULL;
    o.master_key_len = 32;
    garbage(&e);
    check_error(kms_client_open(&o, &client, &e), KMS_STATUS_INVALID_PARAMETER, &e, "(NULL, 32) master key");

    o.master_key_len = 0;
    o.keystore_path = "\xff\xfe not utf-8";
    o.master_key_file = "\xc3\x28";
    garbage(&e);
    check_some_error(kms_client_open(&o, &client, &e), &e, "non-UTF-8 paths");

    static char long_path[70000];
    memset(long_path, 'a', sizeof long_path - 1);
    o.keystore_path = long_path;
    o.master_key_file = long_path;
    garbage(&e);
    check_some_error(kms_client_open(&o, &client, &e), &e, "70000-byte paths");

    memset(&o, 0, sizeof o);
    o.keystore_url = "postgresql://\xff\xff@";
    o.keystore_path = "both.db";
    garbage(&e);
    check_error(kms_client_open(&o, &client, &e), KMS_STATUS_INVALID_PARAMETER, &e, "path and URL");
    CHECK(client == (kms_client *)0x1, "output written on failure");

    /* Flags of any value: create_if_missing is an int, -1 as JNA passes true. */
    int flags[] = {-1, 2, 255, 256, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        memset(&o, 0, sizeof o);
        o.create_if_missing = flags[i];
        kms_client *c = NULL;
        garbage(&e);
        CHECK(kms_client_open(&o, &c, &e) == KMS_STATUS_OK, "flag %d", flags[i]);
        kms_client_free(c);
    }
    puts("kms_client_open: NULLs, short and NULL master keys, non-UTF-8 and 70000-byte paths, odd flags");
}

static void hostile_crypto(kms_client *client, const char *key_id) {
    kms_error e;
    kms_encrypt_response *er = (kms_encrypt_response *)0x1;
    kms_decrypt_response *dr = (kms_decrypt_response *)0x1;
    const uint8_t data[64] = {0};

    garbage(&e);
    check_error(kms_advance_encrypt(NULL, key_id, data, 5, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_MISSING_PARAMETER, &e, "NULL client");
    garbage(&e);
    check_error(kms_advance_encrypt(client, NULL, data, 5, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_MISSING_PARAMETER, &e, "NULL key");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, 5, NULL, NULL, 0, NULL, 0, NULL, NULL, &e),
                KMS_STATUS_MISSING_PARAMETER, &e, "NULL response_out");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, NULL, 5, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "(NULL, 5) plaintext");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, NULL, SIZE_MAX, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "(NULL, SIZE_MAX) plaintext");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, SIZE_MAX, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "SIZE_MAX plaintext length");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, (size_t)PTRDIFF_MAX + 1, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "PTRDIFF_MAX + 1 plaintext length");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, 5, NULL, NULL, 0, data, SIZE_MAX, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "SIZE_MAX aad length");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, 5, NULL, data, SIZE_MAX, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "SIZE_MAX iv length");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, 5, "AES_\xff\xfe", NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "non-UTF-8 algorithm");
    garbage(&e);
    check_error(kms_advance_encrypt(client, key_id, data, 5, "AES_CBC", NULL, 0, NULL, 0, "\x80", &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "non-UTF-8 padding");
    garbage(&e);
    check_error(kms_advance_encrypt(client, "key-\xff\xff\xff", data, 5, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "non-UTF-8 key id");
    CHECK(er == (kms_encrypt_response *)0x1, "output written on failure");

    static char long_key[100000];
    memset(long_key, 'k', sizeof long_key - 1);
    garbage(&e);
    check_some_error(kms_advance_encrypt(client, long_key, data, 5, NULL, NULL, 0, NULL, 0, NULL, &er, &e),
                     &e, "100000-byte key id");
    CHECK(strlen(e.message) < sizeof e.message, "message cut to fit");
    garbage(&e);
    check_some_error(kms_advance_encrypt(client, key_id, data, 5, long_key, NULL, 0, NULL, 0, NULL, &er, &e),
                     &e, "100000-byte algorithm");

    /* Decrypt: NULL blob with a length, huge lengths, junk. */
    garbage(&e);
    check_error(kms_advance_decrypt(client, NULL, 80, NULL, NULL, NULL, 0, NULL, 0, NULL, &dr, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "(NULL, 80) blob");
    garbage(&e);
    check_error(kms_advance_decrypt(client, data, SIZE_MAX, NULL, NULL, NULL, 0, NULL, 0, NULL, &dr, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "SIZE_MAX blob length");
    garbage(&e);
    check_error(kms_advance_decrypt(client, data, sizeof data, NULL, NULL, NULL, 0, NULL, 0, NULL, &dr, &e),
                KMS_STATUS_INVALID_CIPHERTEXT, &e, "zero bytes as a blob");
    garbage(&e);
    check_error(kms_decrypt(client, data, 32, NULL, NULL, NULL, 0, NULL, 0, NULL, &dr, &e),
                KMS_STATUS_MISSING_PARAMETER, &e, "kms_decrypt without a key");
    garbage(&e);
    check_error(kms_decrypt(client, data, 32, key_id, "AES_GCM", data, SIZE_MAX, NULL, 0, NULL, &dr, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "kms_decrypt SIZE_MAX iv length");
    CHECK(dr == (kms_decrypt_response *)0x1, "output written on failure");

    /* A real round trip, freed, and the freed pointer set to NULL freed again. */
    kms_encrypt_response *ok = NULL;
    garbage(&e);
    CHECK(kms_advance_encrypt(client, key_id, data, sizeof data, NULL, NULL, 0, data, 7, NULL, &ok, &e) == KMS_STATUS_OK,
          "encrypt");
    kms_decrypt_response *opened = NULL;
    CHECK(kms_advance_decrypt(client, ok->ciphertext_blob, ok->ciphertext_blob_len, NULL, NULL, NULL, 0, data, 7,
                              NULL, &opened, &e) == KMS_STATUS_OK,
          "decrypt");
    CHECK(opened->plaintext_len == sizeof data && memcmp(opened->plaintext, data, sizeof data) == 0, "plaintext");
    /* Every truncation of the blob: InvalidCiphertext, never a read past it. */
    for (size_t len = 1; len < ok->ciphertext_blob_len; len++) {
        uint8_t *copy = malloc(len); /* exactly len bytes: ASan sees any overread */
        memcpy(copy, ok->ciphertext_blob, len);
        kms_decrypt_response *none = NULL;
        garbage(&e);
        check_error(kms_advance_decrypt(client, copy, len, NULL, NULL, NULL, 0, data, 7, NULL, &none, &e),
                    KMS_STATUS_INVALID_CIPHERTEXT, &e, "truncated blob");
        CHECK(none == NULL, "output written on failure");
        free(copy);
    }
    kms_encrypt_response_free(ok);
    ok = NULL;
    kms_encrypt_response_free(ok);
    kms_decrypt_response_free(opened);
    opened = NULL;
    kms_decrypt_response_free(opened);
    puts("encrypt and decrypt: NULLs, SIZE_MAX lengths, non-UTF-8 and 100000-byte strings, every truncation");
}

static void hostile_keys(kms_client *client, const char *key_id) {
    kms_error e;
    char *out = (char *)0x1;

    garbage(&e);
    check_error(kms_create_key(NULL, NULL, NULL, NULL, NULL, &out, &e), KMS_STATUS_MISSING_PARAMETER, &e,
                "create NULL client");
    garbage(&e);
    check_error(kms_create_key(client, "Aliyun_\xff", NULL, NULL, NULL, &out, &e), KMS_STATUS_INVALID_PARAMETER,
                &e, "non-UTF-8 spec");
    CHECK(out == (char *)0x1, "output written on failure");
    /* NULL options are the defaults. */
    char *made = NULL;
    garbage(&e);
    CHECK(kms_create_key_with_options(client, NULL, &made, &e) == KMS_STATUS_OK && made != NULL, "NULL options");
    kms_string_free(made);

    garbage(&e);
    check_error(kms_import_key_material(client, key_id, NULL, 32, 0, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "(NULL, 32) material");
    garbage(&e);
    check_error(kms_import_key_material(client, key_id, (const uint8_t *)"x", SIZE_MAX, 0, &e),
                KMS_STATUS_INVALID_PARAMETER, &e, "SIZE_MAX material length");

    garbage(&e);
    check_error(kms_key_rotate(client, NULL, NULL, &e), KMS_STATUS_MISSING_PARAMETER, &e, "rotate NULL key");
    garbage(&e);
    check_error(kms_update_rotation_policy(client, key_id, -1, "\xff", &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "non-UTF-8 interval");
    garbage(&e);
    check_error(kms_update_rotation_policy(client, key_id, INT_MIN, "1s", &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "interval below 7 days");
    garbage(&e);
    CHECK(kms_update_rotation_policy(client, key_id, INT_MIN, "7d", &e) == KMS_STATUS_OK, "INT_MIN flag");
    garbage(&e);
    CHECK(kms_update_rotation_policy(client, key_id, 0, NULL, &e) == KMS_STATUS_OK, "flag 0");

    garbage(&e);
    check_error(kms_schedule_key_deletion(client, key_id, INT_MIN, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "INT_MIN days");
    garbage(&e);
    check_error(kms_schedule_key_deletion(client, key_id, INT_MAX, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "INT_MAX days");

    static char long_alias[300];
    memcpy(long_alias, "alias/", 6);
    memset(long_alias + 6, 'a', sizeof long_alias - 7);
    garbage(&e);
    check_error(kms_create_alias(client, long_alias, key_id, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "300-byte alias");
    garbage(&e);
    check_error(kms_create_alias(client, "alias/\xff", key_id, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "non-UTF-8 alias");
    garbage(&e);
    check_error(kms_delete_alias(client, NULL, &e), KMS_STATUS_MISSING_PARAMETER, &e, "delete NULL alias");

    garbage(&e);
    check_error(kms_describe_key(client, key_id, NULL, &e), KMS_STATUS_MISSING_PARAMETER, &e,
                "describe NULL out");
    garbage(&e);
    check_error(kms_list_keys(NULL, &out, &e), KMS_STATUS_MISSING_PARAMETER, &e, "list NULL client");
    CHECK(out == (char *)0x1, "output written on failure");

    kms_data_key_response *dk = (kms_data_key_response *)0x1;
    garbage(&e);
    check_error(kms_generate_data_key(client, key_id, 1025, NULL, 0, &dk, &e), KMS_STATUS_INVALID_PARAMETER, &e,
                "1025-byte data key");
    garbage(&e);
    check_error(kms_generate_data_key(client, key_id, UINT32_MAX, NULL, 0, &dk, &e), KMS_STATUS_INVALID_PARAMETER,
                &e, "UINT32_MAX-byte data key");
    CHECK(dk == (kms_data_key_response *)0x1, "output written on failure");

    /* The NULL error struct: allowed everywhere. */
    CHECK(kms_key_rotate(client, NULL, NULL, NULL) == KMS_STATUS_MISSING_PARAMETER, "NULL error");
    CHECK(kms_list_keys(client, NULL, NULL) == KMS_STATUS_MISSING_PARAMETER, "NULL error and out");

    garbage(&e);
    check_error(kms_client_set_clock(NULL, NULL, NULL, &e), KMS_STATUS_MISSING_PARAMETER, &e,
                "clock NULL client");
    puts("keys, aliases, rotation, data keys: NULLs, SIZE_MAX, INT_MIN/INT_MAX, non-UTF-8, 300-byte alias");
}

int main(void) {
    free_functions_take_null();
    static_functions();
    hostile_open();

    kms_client *client = open_memory();
    char *key_id = NULL;
    kms_error e;
    garbage(&e);
    CHECK(kms_create_key(client, NULL, NULL, NULL, NULL, &key_id, &e) == KMS_STATUS_OK, "create key");
    hostile_crypto(client, key_id);
    hostile_keys(client, key_id);
    kms_string_free(key_id);
    key_id = NULL;
    kms_string_free(key_id);
    kms_client_free(client);

    printf("hostile_caller: %d checks passed\n", checks);
    return 0;
}
