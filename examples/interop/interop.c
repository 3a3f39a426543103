/*
 * interop.c: the C side of the Go, Java and Python bindings' interop tests
 * (bindings/go/interop_test.go, bindings/java/.../InteropTest.java and
 * LayoutTest.java, bindings/python/tests/test_localkms.py).
 *
 * Shares a file-backed key store with the test process and exchanges blobs with
 * it as files, so that a blob made in C is opened by the binding and the other
 * way round. Also prints the C layout of the structs, which the tests compare
 * with their own declarations (JNA Structures, ctypes Structures).
 *
 *   interop layout
 *       "struct size" and "struct.field offset size" lines for every struct in
 *       localkms.h (the field sizes tell, e.g., an int flag from a one-byte bool
 *       that the padding after it would hide).
 *   interop encrypt STORE MASTER_KEY_FILE KEY_ID IN_FILE OUT_FILE [--aad AAD]
 *                   [--algorithm ALGORITHM] [--rotate]
 *       AdvanceEncrypts IN_FILE into OUT_FILE (after a manual rotation of the
 *       key with --rotate) and prints the KeyVersionId used.
 *   interop decrypt STORE MASTER_KEY_FILE IN_FILE OUT_FILE [--aad AAD]
 *       AdvanceDecrypts IN_FILE into OUT_FILE and prints the KeyVersionId used.
 *
 * STORE exists already (the binding's test made it). Failures print the step,
 * status, code, HTTP status and message on stderr and exit 1; bad usage exits 2.
 *
 * Each binding's run-tests.sh builds it and passes its path in LOCALKMS_INTEROP:
 *   cc -std=c11 -Wall -Wextra -Werror -I<repo>/include examples/interop/interop.c \
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
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n", step,
            (unsigned)status, error->code, (unsigned)error->http_status, error->message,
            error->request_id);
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
    options.create_if_missing = 0; /* the binding's test created it */
    return kms_client_open(&options, client, err);
}

/* The optional arguments after the positional ones. */
struct flags {
    const char *aad;       /* NULL: none */
    const char *algorithm; /* NULL: the key's default */
    int rotate;
};

/* 0, or -1 after printing why on stderr. */
static int parse_flags(int argc, char **argv, int allow_encrypt_flags, struct flags *flags)
{
    memset(flags, 0, sizeof *flags);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--aad") == 0 && i + 1 < argc) {
            flags->aad = argv[++i];
        } else if (allow_encrypt_flags && strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc) {
            flags->algorithm = argv[++i];
        } else if (allow_encrypt_flags && strcmp(argv[i], "--rotate") == 0) {
            flags->rotate = 1;
        } else {
            fprintf(stderr, "interop: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* argv: STORE MASTER_KEY_FILE KEY_ID IN_FILE OUT_FILE */
static int do_encrypt(char **argv, const struct flags *flags)
{
    unsigned char *plaintext = NULL;
    size_t plaintext_len = 0;
    if (read_file(argv[3], &plaintext, &plaintext_len) != 0) {
        return 1;
    }
    kms_client *client = NULL;
    kms_error err;
    kms_status st = open_store(argv[0], argv[1], &client, &err);
    if (st != KMS_STATUS_OK) {
        free(plaintext);
        return fail("kms_client_open", st, &err);
    }
    if (flags->rotate) {
        st = kms_key_rotate(client, argv[2], NULL, &err);
        if (st != KMS_STATUS_OK) {
            free(plaintext);
            kms_client_free(client);
            return fail("kms_key_rotate", st, &err);
        }
    }
    const char *aad = flags->aad;
    kms_encrypt_response *enc = NULL;
    st = kms_advance_encrypt(client, argv[2], plaintext, plaintext_len, flags->algorithm, NULL, 0,
                             (const uint8_t *)aad, aad ? strlen(aad) : 0, NULL, &enc, &err);
    free(plaintext);
    int rc = 0;
    if (st != KMS_STATUS_OK) {
        rc = fail("kms_advance_encrypt", st, &err);
    } else if (write_file(argv[4], enc->ciphertext_blob, enc->ciphertext_blob_len) != 0) {
        rc = 1;
    } else {
        printf("%s\n", enc->key_version_id);
    }
    kms_encrypt_response_free(enc);
    kms_client_free(client);
    return rc;
}

/* argv: STORE MASTER_KEY_FILE IN_FILE OUT_FILE */
static int do_decrypt(char **argv, const struct flags *flags)
{
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    if (read_file(argv[2], &blob, &blob_len) != 0) {
        return 1;
    }
    kms_client *client = NULL;
    kms_error err;
    kms_status st = open_store(argv[0], argv[1], &client, &err);
    if (st != KMS_STATUS_OK) {
        free(blob);
        return fail("kms_client_open", st, &err);
    }
    const char *aad = flags->aad;
    kms_decrypt_response *dec = NULL;
    st = kms_advance_decrypt(client, blob, blob_len, NULL, NULL, NULL, 0, (const uint8_t *)aad,
                             aad ? strlen(aad) : 0, NULL, &dec, &err);
    free(blob);
    int rc = 0;
    if (st != KMS_STATUS_OK) {
        rc = fail("kms_advance_decrypt", st, &err);
    } else if (write_file(argv[3], dec->plaintext, dec->plaintext_len) != 0) {
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
    struct flags flags;
    if (argc == 2 && strcmp(argv[1], "layout") == 0) {
        return layout();
    }
    if (argc >= 7 && strcmp(argv[1], "encrypt") == 0) {
        if (parse_flags(argc - 7, argv + 7, 1, &flags) == 0) {
            return do_encrypt(argv + 2, &flags);
        }
    } else if (argc >= 6 && strcmp(argv[1], "decrypt") == 0) {
        if (parse_flags(argc - 6, argv + 6, 0, &flags) == 0) {
            return do_decrypt(argv + 2, &flags);
        }
    }
    fprintf(stderr,
            "usage: interop layout\n"
            "       interop encrypt STORE MASTER_KEY_FILE KEY_ID IN_FILE OUT_FILE [--aad AAD]\n"
            "                       [--algorithm ALGORITHM] [--rotate]\n"
            "       interop decrypt STORE MASTER_KEY_FILE IN_FILE OUT_FILE [--aad AAD]\n");
    return 2;
}
