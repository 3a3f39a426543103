/*
 * kms_loop: one localkms call in a tight loop, for profilers (perf record / perf
 * stat) and for `strace -c -f` (how many system calls a loop of calls makes).
 *
 *   kms_loop OP SIZE ITERATIONS [THREADS] [rotate]
 *
 * OP is aenc (kms_advance_encrypt), adec (kms_advance_decrypt), enc
 * (kms_encrypt) or dec (kms_decrypt); SIZE the plaintext in bytes; THREADS
 * (default 1) threads share the one in-memory client and each make ITERATIONS
 * calls, freeing every response as a caller does. AES_GCM, random IV, no Aad.
 * With `rotate`, one more thread (named "rotator", so that `perf report --comm
 * kms_loop` leaves it out) calls kms_key_rotate on the key without pause until
 * the others are done: what a call pays for the rotations of another core.
 * Prints the calls made, wall and CPU ns per call (per thread) on stderr; any failed call
 * aborts with its status and message.
 *
 * Built by `make build/kms_loop` (bench/README.md, "Profiling").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setname_np */
#endif

#include <localkms.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op { AENC, ADEC, ENC, DEC };

struct job {
    kms_client *client;
    const char *key_id;
    enum op op;
    size_t size;
    long iterations;
    const kms_encrypt_response *sealed; /* input of the decrypt ops */
    double ns_per_call;     /* wall time */
    double cpu_ns_per_call; /* this thread's CPU time: steadier on a shared machine */
};

static void check(kms_status status, const kms_error *err, const char *what) {
    if (status != KMS_STATUS_OK) {
        fprintf(stderr, "kms_loop: %s failed: %s (%u): %s\n", what, err->code, (unsigned)status,
                err->message);
        exit(1);
    }
}

static double clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct rotator {
    kms_client *client;
    const char *key_id;
    atomic_bool stop;
    long rotations;
};

static void *rotate(void *arg) {
    struct rotator *r = arg;
    pthread_setname_np(pthread_self(), "rotator");
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        kms_error err;
        check(kms_key_rotate(r->client, r->key_id, NULL, &err), &err, "kms_key_rotate");
        r->rotations++;
    }
    return NULL;
}

static void *run(void *arg) {
    struct job *j = arg;
    unsigned char *pt = malloc(j->size ? j->size : 1);
    if (pt == NULL)
        exit(1);
    memset(pt, 0x5a, j->size);
    kms_error err;
    double start = clock_ns(CLOCK_MONOTONIC);
    double cpu_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < j->iterations; i++) {
        if (j->op == AENC || j->op == ENC) {
            kms_encrypt_response *r = NULL;
            kms_status s = j->op == AENC
                               ? kms_advance_encrypt(j->client, j->key_id, pt, j->size, NULL, NULL, 0,
                                                     NULL, 0, NULL, &r, &err)
                               : kms_encrypt(j->client, j->key_id, pt, j->size, NULL, NULL, 0, NULL,
                                             0, NULL, &r, &err);
            check(s, &err, "encrypt");
            kms_encrypt_response_free(r);
        } else {
            kms_decrypt_response *r = NULL;
            const kms_encrypt_response *c = j->sealed;
            kms_status s =
                j->op == ADEC
                    ? kms_advance_decrypt(j->client, c->ciphertext_blob, c->ciphertext_blob_len,
                                          NULL, NULL, NULL, 0, NULL, 0, NULL, &r, &err)
                    : kms_decrypt(j->client, c->ciphertext_blob, c->ciphertext_blob_len, j->key_id,
                                  NULL, c->iv, c->iv_len, NULL, 0, NULL, &r, &err);
            check(s, &err, "decrypt");
            if (r->plaintext_len != j->size) {
                fprintf(stderr, "kms_loop: decrypt returned %zu bytes, not %zu\n", r->plaintext_len,
                        j->size);
                exit(1);
            }
            kms_decrypt_response_free(r);
        }
    }
    double calls = (double)(j->iterations ? j->iterations : 1);
    j->cpu_ns_per_call = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start) / calls;
    j->ns_per_call = (clock_ns(CLOCK_MONOTONIC) - start) / calls;
    free(pt);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: kms_loop aenc|adec|enc|dec SIZE ITERATIONS [THREADS] [rotate]\n");
        return 2;
    }
    enum op op;
    if (strcmp(argv[1], "aenc") == 0)
        op = AENC;
    else if (strcmp(argv[1], "adec") == 0)
        op = ADEC;
    else if (strcmp(argv[1], "enc") == 0)
        op = ENC;
    else if (strcmp(argv[1], "dec") == 0)
        op = DEC;
    else {
        fprintf(stderr, "kms_loop: unknown operation %s\n", argv[1]);
        return 2;
    }
    size_t size = strtoul(argv[2], NULL, 10);
    long iterations = strtol(argv[3], NULL, 10);
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (threads < 1 || threads > 64)
        threads = 1;
    int rotating = argc > 5 && strcmp(argv[5], "rotate") == 0;

    kms_error err;
    kms_client *client = NULL;
    check(kms_client_open(NULL, &client, &err), &err, "kms_client_open");
    char *key_id = NULL;
    check(kms_create_key(client, NULL, NULL, NULL, NULL, &key_id, &err), &err, "kms_create_key");

    unsigned char *pt = calloc(1, size ? size : 1);
    if (pt == NULL)
        return 1;
    kms_encrypt_response *sealed = NULL;
    if (op == ADEC)
        check(kms_advance_encrypt(client, key_id, pt, size, NULL, NULL, 0, NULL, 0, NULL, &sealed,
                                  &err),
              &err, "kms_advance_encrypt");
    else if (op == DEC)
        check(kms_encrypt(client, key_id, pt, size, NULL, NULL, 0, NULL, 0, NULL, &sealed, &err),
              &err, "kms_encrypt");
    free(pt);

    struct rotator rot = {client, key_id, false, 0};
    pthread_t rot_tid;
    if (rotating && pthread_create(&rot_tid, NULL, rotate, &rot) != 0)
        return 1;
    struct job jobs[64];
    pthread_t tids[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){client, key_id, op, size, iterations, sealed, 0, 0};
        if (pthread_create(&tids[t], NULL, run, &jobs[t]) != 0)
            return 1;
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        fprintf(stderr,
                "kms_loop: %s %zu B, thread %d: %ld calls, %.1f ns per call (%.1f ns of CPU time)\n",
                argv[1], size, t, iterations, jobs[t].ns_per_call, jobs[t].cpu_ns_per_call);
    }
    if (rotating) {
        atomic_store(&rot.stop, true);
        pthread_join(rot_tid, NULL);
        fprintf(stderr, "kms_loop: %ld rotations meanwhile\n", rot.rotations);
    }
    kms_encrypt_response_free(sealed);
    kms_string_free(key_id);
    kms_client_free(client);
    return 0;
}
