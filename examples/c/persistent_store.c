/*
 * persistent_store.c: keys that outlive the program.
 *
 * An in-memory key store goes away with its client; a store on disk keeps
 * keys, versions and aliases between runs, and can be shared by several
 * processes at once. The store is an SQLite database file, one sealed row per
 * key and alias: the key material in it is sealed (AES-256-GCM) under a 32-byte
 * master key that you keep elsewhere, here in a master-key file.
 *
 * Usage:
 *
 *   persistent_store <store-path> <master-key-file>
 *
 * The first run creates the master-key file (if it does not exist), the store, a
 * key and the alias alias/persistent-example. Every later run finds the same key
 * through its alias, and decrypts the blob the previous run left in
 * <store-path>.blob, which shows that the keys really were kept.
 *
 *   $ ./persistent_store /tmp/demo.kms /tmp/demo.key
 *   first run: created key-... (alias/persistent-example)
 *   ...
 *   $ ./persistent_store /tmp/demo.kms /tmp/demo.key
 *   found existing key key-... (alias/persistent-example)
 *   decrypted the blob from the previous run: ...
 *
 * Keep the master key safe and separate from the store: whoever has both has
 * the keys; whoever loses the master key loses every key in the store. The
 * library refuses a master-key file that group or others may read
 * (KeyStore.AccessDenied), and creates the store mode 0600 whatever the umask;
 * the <store>-wal and <store>-shm files SQLite keeps beside it while a client
 * has it open get the same mode, and the last client to close removes them.
 * There is no lock file. Back up the store with SQLite's backup
 * (e.g. the sqlite3 shell's .backup), not by copying the file while a client
 * has it open: the newest changes may still be only in <store>-wal.
 *
 * A store file of localkms 0.1 (one sealed file, starting "LOCALKMS") is
 * refused at <store-path> with KeyStore.Corrupted: copy it into a new store
 * first, with `localkms store copy`.
 *
 * Build (from the repository root, after `cargo build --release`):
 *
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/persistent_store.c \
 *      -Ltarget/release -llocalkms -o persistent_store
 *
 * It is valid C11 and C++, and needs POSIX (open, fchmod, fsync).
 */

/* open(), fchmod() and fsync() are POSIX, not ISO C: ask for them. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "localkms.h"

static const char ALIAS[] = "alias/persistent-example";
static const char MESSAGE[] = "a message sealed by persistent_store";

/* Prints a failed call's status, code and message. */
static void report(const char *step, kms_status status, const kms_error *error)
{
    fprintf(stderr, "%s failed: status %u, code %s (HTTP %u): %s [RequestId %s]\n",
            step, (unsigned)status, error->code, (unsigned)error->http_status,
            error->message, error->request_id);
}

/*
 * Overwrites a secret. A plain memset before free() may be optimised away;
 * writing through a volatile pointer may not. (glibc and the BSDs have
 * explicit_bzero for this.)
 */
static void wipe(void *secret, size_t len)
{
    volatile unsigned char *p = (volatile unsigned char *)secret;
    while (len--) {
        *p++ = 0;
    }
}

/* Writes all of `len` bytes to `fd`, retrying short writes. 0 on success. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Makes sure the master-key file exists. If it does not, creates it with 32
 * random bytes from /dev/urandom written as 64 hex digits (the library also
 * accepts 32 raw bytes).
 *
 * O_CREAT | O_EXCL creates the file only if there is none, atomically: two
 * programs starting at once cannot both write a key, and an existing key is
 * never overwritten. Mode 0600 is given at creation, so the key is never
 * readable by others, not even for an instant; fchmod makes it exactly 0600
 * whatever the umask took away.
 *
 * Returns 1 if it created the file, 0 if the file already existed, -1 on error.
 */
static int ensure_master_key_file(const char *path)
{
    static const char DIGITS[] = "0123456789abcdef";
    unsigned char key[KMS_MASTER_KEY_LEN];
    char hex[2 * KMS_MASTER_KEY_LEN + 1]; /* 64 digits and a newline */
    FILE *urandom = NULL;
    size_t i;
    int fd = -1;
    int result = -1;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return 0;
        fprintf(stderr, "cannot create the master-key file %s: %s\n", path, strerror(errno));
        return -1;
    }

    urandom = fopen("/dev/urandom", "rb");
    if (urandom == NULL || fread(key, 1, sizeof key, urandom) != sizeof key) {
        fprintf(stderr, "cannot read 32 random bytes from /dev/urandom\n");
        goto done;
    }
    for (i = 0; i < sizeof key; i++) {
        hex[2 * i] = DIGITS[key[i] >> 4];
        hex[2 * i + 1] = DIGITS[key[i] & 15];
    }
    hex[2 * KMS_MASTER_KEY_LEN] = '\n';
    if (fchmod(fd, 0600) != 0 || write_all(fd, hex, sizeof hex) != 0 || fsync(fd) != 0) {
        fprintf(stderr, "cannot write the master-key file %s: %s\n", path, strerror(errno));
        goto done;
    }
    result = 1;

done:
    wipe(key, sizeof key);
    wipe(hex, sizeof hex);
    if (urandom != NULL) fclose(urandom);
    if (close(fd) != 0 && result == 1) {
        fprintf(stderr, "cannot write the master-key file %s: %s\n", path, strerror(errno));
        result = -1;
    }
    if (result < 0) unlink(path); /* leave no half-written key behind */
    return result;
}

/*
 * Finds `alias` in the JSON of kms_list_aliases, which looks like
 *
 *   {"Aliases":{"Alias":[{"AliasName":"alias/a","KeyId":"key-..."},...]},...}
 *
 * and copies the KeyId it names into `key_id`. Returns 1 if found, 0 if not.
 *
 * A real program would use a JSON parser. A plain search is enough here: an
 * alias name cannot contain a quote, so "AliasName":"<alias>" (quotes included)
 * matches this alias and no other; the KeyId is then looked for inside the same
 * {...} object (the two fields may come in any order), and a KeyId always has
 * KMS_KEY_ID_LEN characters.
 */
static int find_alias(const char *json, const char *alias, char key_id[KMS_KEY_ID_LEN + 1])
{
    static const char KEY_ID_FIELD[] = "\"KeyId\":\"";
    char needle[300];
    const char *found;
    const char *object_start;
    const char *object_end;
    const char *field;

    snprintf(needle, sizeof needle, "\"AliasName\":\"%s\"", alias);
    found = strstr(json, needle);
    if (found == NULL) return 0;

    object_start = found;
    while (object_start > json && *object_start != '{') object_start--;
    object_end = strchr(found, '}');
    if (object_end == NULL) return 0;

    field = strstr(object_start, KEY_ID_FIELD);
    if (field == NULL || field > object_end) return 0;
    field += strlen(KEY_ID_FIELD);
    if (object_end - field < KMS_KEY_ID_LEN || field[KMS_KEY_ID_LEN] != '"') return 0;
    memcpy(key_id, field, KMS_KEY_ID_LEN);
    key_id[KMS_KEY_ID_LEN] = '\0';
    return 1;
}

/*
 * Reads a whole file into a buffer the caller frees with free().
 * Returns 1 when read, 0 when the file does not exist, -1 on error.
 */
static int read_file(const char *path, uint8_t **data_out, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long size;

    if (f == NULL) {
        if (errno == ENOENT) return 0;
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        fclose(f);
        return -1;
    }
    /* malloc(0) may return NULL; ask for at least one byte. */
    data = (uint8_t *)malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    *data_out = data;
    *len_out = (size_t)size;
    return 1;
}

/*
 * Replaces the file at `path` with `data`: written to "<path>.tmp" first and
 * renamed over it, so a crash leaves the old blob or the new one, never half of
 * one. (A blob is ciphertext: it needs no secrecy, only the key store does.)
 */
static int write_file(const char *path, const uint8_t *data, size_t len)
{
    size_t tmp_len = strlen(path) + sizeof ".tmp";
    char *tmp = (char *)malloc(tmp_len);
    FILE *f = NULL;
    int ok = 0;

    if (tmp == NULL) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    snprintf(tmp, tmp_len, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f != NULL) {
        ok = fwrite(data, 1, len, f) == len;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *store_path;
    const char *key_file;
    const uint8_t *plaintext = (const uint8_t *)MESSAGE;
    const size_t plaintext_len = strlen(MESSAGE);

    kms_open_options options;
    kms_error error;
    kms_status status;
    kms_client *client = NULL;
    char *aliases = NULL;
    char *created_key_id = NULL;
    char key_id[KMS_KEY_ID_LEN + 1];
    kms_encrypt_response *sealed = NULL;
    kms_decrypt_response *opened = NULL;
    kms_decrypt_response *opened_old = NULL;
    char *blob_path = NULL;
    size_t blob_path_len;
    uint8_t *old_blob = NULL;
    size_t old_blob_len = 0;
    int created;
    int have_old_blob;
    int exit_code = EXIT_FAILURE;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <store-path> <master-key-file>\n", argv[0]);
        return 2;
    }
    store_path = argv[1];
    key_file = argv[2];

    /* kms_error is filled only on failure; clearing it keeps printing safe. */
    memset(&error, 0, sizeof error);

    /* 1. The master key. */
    created = ensure_master_key_file(key_file);
    if (created < 0) goto done;
    printf("%s master-key file %s\n", created ? "created" : "using", key_file);

    /* 2. Open the store, creating it on the first run. Zero the options first so
     *    that fields added in later versions keep their defaults. The master key
     *    is given as a file here; `master_key` and `master_key_len` could give
     *    the 32 bytes directly instead (never both). */
    memset(&options, 0, sizeof options);
    options.keystore_path = store_path;
    options.master_key_file = key_file;
    options.create_if_missing = 1;
    status = kms_client_open(&options, &client, &error);
    if (status != KMS_STATUS_OK) {
        /* KeyStore.AccessDenied: wrong master key, or a key file others can read;
         * KeyStore.Corrupted: not a store (not an SQLite database, a damaged one,
         * or a localkms 0.1 store file to copy with `localkms store copy`);
         * KeyStore.IOError: cannot read or create it, or a symlink, FIFO or folder
         * where the store or its -wal / -shm should be. */
        report("kms_client_open", status, &error);
        goto done;
    }
    printf("open: ok (%s)\n", store_path);

    /* 3. Is our key there from an earlier run? Look for its alias. */
    status = kms_list_aliases(client, &aliases, &error);
    if (status != KMS_STATUS_OK) {
        report("kms_list_aliases", status, &error);
        goto done;
    }
    if (find_alias(aliases, ALIAS, key_id)) {
        printf("found existing key %s (%s)\n", key_id, ALIAS);
    } else {
        /* First run: a new key, and an alias so later runs can find it. Each is
         * committed to the database by the time its call returns. */
        status = kms_create_key(client, NULL, NULL, NULL, "persistent_store example key",
                                &created_key_id, &error);
        if (status != KMS_STATUS_OK) {
            report("kms_create_key", status, &error);
            goto done;
        }
        status = kms_create_alias(client, ALIAS, created_key_id, &error);
        if (status != KMS_STATUS_OK) {
            /* Another process running this program at the same moment may have
             * created the alias first (AliasAlreadyExists); a real program would
             * then list the aliases again and use that process's key. */
            report("kms_create_alias", status, &error);
            goto done;
        }
        snprintf(key_id, sizeof key_id, "%s", created_key_id);
        printf("first run: created %s (%s)\n", key_id, ALIAS);
    }

    /* 4. Encrypt and decrypt with the key, through its alias. */
    status = kms_advance_encrypt(client, ALIAS, plaintext, plaintext_len, NULL, NULL, 0, NULL,
                                 0, NULL, &sealed, &error);
    if (status != KMS_STATUS_OK) {
        report("kms_advance_encrypt", status, &error);
        goto done;
    }
    if (strcmp(sealed->key_id, key_id) != 0) {
        fprintf(stderr, "unexpected: the alias names %s, not %s\n", sealed->key_id, key_id);
        goto done;
    }
    printf("advance_encrypt: ok (version %s, %zu-byte blob)\n", sealed->key_version_id,
           sealed->ciphertext_blob_len);

    status = kms_advance_decrypt(client, sealed->ciphertext_blob, sealed->ciphertext_blob_len,
                                 NULL, NULL, NULL, 0, NULL, 0, NULL, &opened, &error);
    if (status != KMS_STATUS_OK) {
        report("kms_advance_decrypt", status, &error);
        goto done;
    }
    if (opened->plaintext_len != plaintext_len ||
        memcmp(opened->plaintext, plaintext, plaintext_len) != 0) {
        fprintf(stderr, "unexpected: the decrypted text differs from the message\n");
        goto done;
    }
    printf("advance_decrypt: ok (version %s, \"%.*s\")\n", opened->key_version_id,
           (int)opened->plaintext_len, (const char *)opened->plaintext);

    /* 5. The blob an earlier run left beside the store, if any. It decrypts only
     *    because the store kept the key version that made it. */
    blob_path_len = strlen(store_path) + sizeof ".blob";
    blob_path = (char *)malloc(blob_path_len);
    if (blob_path == NULL) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    snprintf(blob_path, blob_path_len, "%s.blob", store_path);
    have_old_blob = read_file(blob_path, &old_blob, &old_blob_len);
    if (have_old_blob < 0) goto done;
    if (have_old_blob) {
        status = kms_advance_decrypt(client, old_blob, old_blob_len, NULL, NULL, NULL, 0, NULL,
                                     0, NULL, &opened_old, &error);
        if (status != KMS_STATUS_OK) {
            report("kms_advance_decrypt of the previous run's blob", status, &error);
            goto done;
        }
        printf("decrypted the blob from the previous run: \"%.*s\" (version %s)\n",
               (int)opened_old->plaintext_len, (const char *)opened_old->plaintext,
               opened_old->key_version_id);
    } else {
        printf("no blob from a previous run at %s\n", blob_path);
    }

    /* 6. Leave this run's blob for the next run. */
    if (write_file(blob_path, sealed->ciphertext_blob, sealed->ciphertext_blob_len) != 0)
        goto done;
    printf("wrote the blob to %s for the next run\n", blob_path);

    exit_code = EXIT_SUCCESS;

done:
    /* Every output is freed with its own function (the kms_*_free functions
     * accept NULL); the decrypt responses wipe their plaintext. */
    kms_decrypt_response_free(opened_old);
    kms_decrypt_response_free(opened);
    kms_encrypt_response_free(sealed);
    kms_string_free(created_key_id);
    kms_string_free(aliases);
    kms_client_free(client);
    free(old_blob);
    free(blob_path);
    if (exit_code == EXIT_SUCCESS) printf("persistent_store: all steps passed\n");
    return exit_code;
}
