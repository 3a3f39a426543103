/*
 * kms_vs_evp: what localkms costs over doing the same job with OpenSSL's EVP.
 *
 * In one process, through liblocalkms.so, it times kms_advance_encrypt,
 * kms_advance_decrypt, kms_encrypt and kms_decrypt (each with the free of its
 * response, as a caller does) on an in-memory client with one Aliyun_AES_256
 * key, and two OpenSSL anchors:
 *
 *   same-job EVP  what a caller would write by hand to produce and open the
 *                 same blob: a fresh IV from RAND_bytes, a malloc'd output laid
 *                 out like an AdvanceEncrypt blob (39-byte header, a fixed
 *                 pattern here, + IV + ciphertext [+ 16-byte GCM tag]), a cached
 *                 EVP_CIPHER_CTX re-initialised with the key-less
 *                 EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv), then free; and
 *                 the decrypt counterpart (parse the header, take the IV, verify
 *                 the tag / padding, malloc the plaintext, free it).
 *   bare EVP      the cipher alone: cached context, fixed IV, no allocation.
 *                 Encrypt runs in place; decrypt reads a fixed ciphertext into a
 *                 preallocated buffer (in place would destroy its own input) and
 *                 verifies the tag / padding.
 *
 * For AES_GCM and AES_CBC (PKCS7), sizes 16 B .. 1 MiB, 1 and 2 threads (each
 * thread its own EVP contexts; all threads share the one kms_client), then the
 * latency percentiles of kms_advance_encrypt at 64 B with and without a second
 * thread calling kms_key_rotate on the same key continuously.
 *
 *   kms_vs_evp [--quick] [--time SECONDS] [--cpu] [--best]
 *
 * Prints a Markdown report on stdout (progress goes to stderr). Ratios are
 * localkms time / anchor time: below 1.0 localkms is faster. Any failed call
 * aborts the run with a message; decrypt(encrypt(x)) == x is checked once per
 * algorithm and size, for localkms and both anchors, before anything is timed.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <localkms.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The cargo features the library was built with (the Makefile passes them). */
#ifndef KMS_BENCH_BACKEND
#define KMS_BENCH_BACKEND "unknown"
#endif

#define HDR_LEN KMS_BLOB_HEADER_LEN /* 39 */
#define GCM_IV KMS_GCM_IV_LEN       /* 12 */
#define GCM_TAG KMS_GCM_TAG_LEN     /* 16 */
#define CBC_IV KMS_CBC_IV_LEN       /* 16 */
#define MAX_THREADS 2

/* ---------------------------------------------------------------- failures */

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("kms_vs_evp: FATAL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void check_kms(kms_status status, const kms_error *err, const char *what) {
    if (status != KMS_STATUS_OK)
        die("%s failed: %s (%u, HTTP %u): %s [RequestId %s]", what, err->code, (unsigned)status,
            (unsigned)err->http_status, err->message, err->request_id);
}

static void check_evp(int ok, const char *what) {
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        char buf[256] = "no OpenSSL error queued";
        if (e != 0)
            ERR_error_string_n(e, buf, sizeof buf);
        die("%s failed: %s", what, buf);
    }
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die("malloc(%zu) failed", n);
    return p;
}

/* ------------------------------------------------------------------ timing */

static double now_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime failed");
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime failed");
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --cpu: throughput measured in each thread's CPU time, not wall time. */
static int g_cpu_time = 0;
/* --best: throughput of the fastest batch, not of the whole measurement. */
static int g_best = 0;

/* The clock of the throughput measurements: wall time, or with --cpu the
 * calling thread's CPU time (a system call, but batches take ~0.5 ms). */
static double measure_s(void) {
    if (!g_cpu_time)
        return now_s();
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        die("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double g_min_time = 0.3; /* seconds per measurement */
static double g_warm_time = 0.06;
static double g_lat_time = 1.0; /* seconds per latency scenario */

/* -------------------------------------------------------- benchmark set-up */

enum alg { ALG_GCM, ALG_CBC, ALG_COUNT };
static const char *const ALG_NAME[ALG_COUNT] = {"AES_GCM", "AES_CBC"};

static const size_t SIZES[] = {16, 64, 1024, 16 * 1024, 1024 * 1024};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])
static const char *const SIZE_NAME[NSIZES] = {"16 B", "64 B", "1 KiB", "16 KiB", "1 MiB"};

/* The 36 bytes after '$', version/padding and algorithm in the anchor's header. */
static const char ANCHOR_VERSION_ID[] = "key-benchmarkanchor0000000-000000000";

/* What all threads of one (algorithm, size) share, read-only while timing. */
struct shared {
    kms_client *client;
    const char *key_id;
    enum alg alg;
    size_t n;
    const uint8_t *pt;
    const uint8_t *evp_key;
    kms_encrypt_response *adv; /* input of kms_advance_decrypt */
    kms_encrypt_response *enc; /* input of kms_decrypt */
    uint8_t *anchor_blob;      /* input of the same-job decrypt */
    size_t anchor_len;
    uint8_t *bare_ct; /* input of the bare decrypt */
    size_t bare_ct_len;
    uint8_t bare_tag[GCM_TAG];
};

/* One thread's own state. */
struct worker {
    const struct shared *s;
    EVP_CIPHER_CTX *ectx, *dctx; /* keyed once; re-initialised with IV only */
    uint8_t *buf;                /* bare encrypt, in place: n + 16 */
    uint8_t *out;                /* bare decrypt output: n + 16 */
    uint8_t fixed_iv[CBC_IV];
    /* set per measurement */
    void (*op)(struct worker *);
    pthread_barrier_t *barrier;
    uint64_t ops;
    double secs;
};

static const EVP_CIPHER *evp_cipher(enum alg a) {
    return a == ALG_GCM ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
}
static size_t iv_len(enum alg a) { return a == ALG_GCM ? GCM_IV : CBC_IV; }
static size_t ct_len(enum alg a, size_t n) {
    return a == ALG_GCM ? n + GCM_TAG : (n / 16 + 1) * 16; /* PKCS7 always pads */
}
static size_t blob_len(enum alg a, size_t n) { return HDR_LEN + iv_len(a) + ct_len(a, n); }

static void worker_init(struct worker *w, const struct shared *s) {
    memset(w, 0, sizeof *w);
    w->s = s;
    memset(w->fixed_iv, 0x42, sizeof w->fixed_iv);
    w->ectx = EVP_CIPHER_CTX_new();
    w->dctx = EVP_CIPHER_CTX_new();
    if (w->ectx == NULL || w->dctx == NULL)
        die("EVP_CIPHER_CTX_new failed");
    check_evp(EVP_EncryptInit_ex(w->ectx, evp_cipher(s->alg), NULL, s->evp_key, w->fixed_iv),
              "EVP_EncryptInit_ex (key)");
    check_evp(EVP_DecryptInit_ex(w->dctx, evp_cipher(s->alg), NULL, s->evp_key, w->fixed_iv),
              "EVP_DecryptInit_ex (key)");
    w->buf = xmalloc(s->n + 16);
    w->out = xmalloc(s->n + 16);
    memcpy(w->buf, s->pt, s->n);
}

static void worker_free(struct worker *w) {
    EVP_CIPHER_CTX_free(w->ectx);
    EVP_CIPHER_CTX_free(w->dctx);
    free(w->buf);
    free(w->out);
}

/* -------------------------------------------------------- same-job anchor */

/* AdvanceEncrypt by hand: returns a malloc'd blob of blob_len(alg, n) bytes. */
static uint8_t *anchor_encrypt(struct worker *w, const uint8_t *pt, size_t n, size_t *len_out) {
    enum alg a = w->s->alg;
    size_t ivl = iv_len(a), len = blob_len(a, n);
    uint8_t *blob = xmalloc(len);
    blob[0] = '$';
    blob[1] = a == ALG_GCM ? 0x00 : 0x01; /* format 0, padding none / PKCS7 */
    blob[2] = a == ALG_GCM ? 2 : 1;
    memcpy(blob + 3, ANCHOR_VERSION_ID, KMS_KEY_VERSION_ID_LEN);
    uint8_t *iv = blob + HDR_LEN;
    check_evp(RAND_bytes(iv, (int)ivl), "RAND_bytes");
    check_evp(EVP_EncryptInit_ex(w->ectx, NULL, NULL, NULL, iv), "EVP_EncryptInit_ex (iv)");
    uint8_t *ct = iv + ivl;
    int l1 = 0, l2 = 0;
    check_evp(EVP_EncryptUpdate(w->ectx, ct, &l1, pt, (int)n), "EVP_EncryptUpdate");
    check_evp(EVP_EncryptFinal_ex(w->ectx, ct + l1, &l2), "EVP_EncryptFinal_ex");
    if (a == ALG_GCM)
        check_evp(EVP_CIPHER_CTX_ctrl(w->ectx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, ct + l1 + l2),
                  "EVP_CTRL_GCM_GET_TAG");
    if ((size_t)(l1 + l2) + (a == ALG_GCM ? GCM_TAG : 0) != ct_len(a, n))
        die("anchor encrypt: %d + %d bytes of ciphertext for %zu", l1, l2, n);
    *len_out = len;
    return blob;
}

/* AdvanceDecrypt by hand: parse, verify, return a malloc'd plaintext, or NULL if
 * the blob does not authenticate / unpad (a parse error is fatal). */
static uint8_t *anchor_decrypt(struct worker *w, const uint8_t *blob, size_t len, size_t *n_out) {
    enum alg a = w->s->alg;
    size_t ivl = iv_len(a), tagl = a == ALG_GCM ? GCM_TAG : 0;
    if (len < HDR_LEN + ivl + tagl || blob[0] != '$' || (blob[1] >> 4) != 0 ||
        blob[2] != (a == ALG_GCM ? 2 : 1))
        die("anchor decrypt: not a blob of this algorithm");
    const uint8_t *iv = blob + HDR_LEN, *ct = iv + ivl;
    size_t cl = len - HDR_LEN - ivl - tagl;
    uint8_t *pt = xmalloc(cl);
    int l1 = 0, l2 = 0;
    check_evp(EVP_DecryptInit_ex(w->dctx, NULL, NULL, NULL, iv), "EVP_DecryptInit_ex (iv)");
    check_evp(EVP_DecryptUpdate(w->dctx, pt, &l1, ct, (int)cl), "EVP_DecryptUpdate");
    if (a == ALG_GCM) {
        uint8_t tag[GCM_TAG];
        memcpy(tag, ct + cl, GCM_TAG);
        check_evp(EVP_CIPHER_CTX_ctrl(w->dctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag),
                  "EVP_CTRL_GCM_SET_TAG");
    }
    if (EVP_DecryptFinal_ex(w->dctx, pt + l1, &l2) != 1) {
        ERR_clear_error();
        free(pt);
        return NULL;
    }
    *n_out = (size_t)(l1 + l2);
    return pt;
}

/* ------------------------------------------------------------- operations */

static void op_kms_adv_enc(struct worker *w) {
    const struct shared *s = w->s;
    kms_encrypt_response *r = NULL;
    kms_error err;
    kms_status st = kms_advance_encrypt(s->client, s->key_id, s->pt, s->n, ALG_NAME[s->alg], NULL,
                                        0, NULL, 0, NULL, &r, &err);
    check_kms(st, &err, "kms_advance_encrypt");
    kms_encrypt_response_free(r);
}

static void op_kms_adv_dec(struct worker *w) {
    const struct shared *s = w->s;
    kms_decrypt_response *r = NULL;
    kms_error err;
    kms_status st = kms_advance_decrypt(s->client, s->adv->ciphertext_blob, s->adv->ciphertext_blob_len,
                                        NULL, NULL, NULL, 0, NULL, 0, NULL, &r, &err);
    check_kms(st, &err, "kms_advance_decrypt");
    kms_decrypt_response_free(r);
}

static void op_kms_enc(struct worker *w) {
    const struct shared *s = w->s;
    kms_encrypt_response *r = NULL;
    kms_error err;
    kms_status st = kms_encrypt(s->client, s->key_id, s->pt, s->n, ALG_NAME[s->alg], NULL, 0, NULL,
                                0, NULL, &r, &err);
    check_kms(st, &err, "kms_encrypt");
    kms_encrypt_response_free(r);
}

static void op_kms_dec(struct worker *w) {
    const struct shared *s = w->s;
    kms_decrypt_response *r = NULL;
    kms_error err;
    kms_status st = kms_decrypt(s->client, s->enc->ciphertext_blob, s->enc->ciphertext_blob_len,
                                s->key_id, ALG_NAME[s->alg], s->enc->iv, s->enc->iv_len, NULL, 0,
                                NULL, &r, &err);
    check_kms(st, &err, "kms_decrypt");
    kms_decrypt_response_free(r);
}

static void op_job_enc(struct worker *w) {
    size_t len;
    uint8_t *blob = anchor_encrypt(w, w->s->pt, w->s->n, &len);
    free(blob);
}

static void op_job_dec(struct worker *w) {
    size_t n;
    uint8_t *pt = anchor_decrypt(w, w->s->anchor_blob, w->s->anchor_len, &n);
    if (pt == NULL)
        die("same-job decrypt: the blob did not authenticate");
    free(pt);
}

static void op_bare_enc(struct worker *w) {
    const struct shared *s = w->s;
    int l1 = 0, l2 = 0;
    check_evp(EVP_EncryptInit_ex(w->ectx, NULL, NULL, NULL, w->fixed_iv), "EVP_EncryptInit_ex (iv)");
    check_evp(EVP_EncryptUpdate(w->ectx, w->buf, &l1, w->buf, (int)s->n), "EVP_EncryptUpdate");
    check_evp(EVP_EncryptFinal_ex(w->ectx, w->buf + l1, &l2), "EVP_EncryptFinal_ex");
    if (s->alg == ALG_GCM) {
        uint8_t tag[GCM_TAG];
        check_evp(EVP_CIPHER_CTX_ctrl(w->ectx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag),
                  "EVP_CTRL_GCM_GET_TAG");
    }
}

static void op_bare_dec(struct worker *w) {
    const struct shared *s = w->s;
    int l1 = 0, l2 = 0;
    check_evp(EVP_DecryptInit_ex(w->dctx, NULL, NULL, NULL, w->fixed_iv), "EVP_DecryptInit_ex (iv)");
    check_evp(EVP_DecryptUpdate(w->dctx, w->out, &l1, s->bare_ct, (int)s->bare_ct_len),
              "EVP_DecryptUpdate");
    if (s->alg == ALG_GCM) {
        uint8_t tag[GCM_TAG];
        memcpy(tag, s->bare_tag, GCM_TAG);
        check_evp(EVP_CIPHER_CTX_ctrl(w->dctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag),
                  "EVP_CTRL_GCM_SET_TAG");
    }
    check_evp(EVP_DecryptFinal_ex(w->dctx, w->out + l1, &l2), "bare EVP_DecryptFinal_ex (verify)");
}

enum op {
    OP_KMS_ADV_ENC,
    OP_KMS_ENC,
    OP_KMS_ADV_DEC,
    OP_KMS_DEC,
    OP_JOB_ENC,
    OP_JOB_DEC,
    OP_BARE_ENC,
    OP_BARE_DEC,
    OP_COUNT
};
static void (*const OP_FN[OP_COUNT])(struct worker *) = {
    op_kms_adv_enc, op_kms_enc, op_kms_adv_dec, op_kms_dec,
    op_job_enc,     op_job_dec, op_bare_enc,    op_bare_dec,
};
static const char *const OP_NAME[OP_COUNT] = {
    "AdvanceEncrypt", "Encrypt", "AdvanceDecrypt", "Decrypt",
    "same-job encrypt", "same-job decrypt", "bare encrypt", "bare decrypt",
};

/* ------------------------------------------------------------- verification */

static void verify(struct shared *s, struct worker *w) {
    enum alg a = s->alg;
    size_t n = s->n;
    const char *alg = ALG_NAME[a];
    kms_error err;
    kms_status st;

    /* localkms AdvanceEncrypt -> AdvanceDecrypt, and the blob layout. */
    st = kms_advance_encrypt(s->client, s->key_id, s->pt, n, alg, NULL, 0, NULL, 0, NULL, &s->adv, &err);
    check_kms(st, &err, "kms_advance_encrypt (verify)");
    const uint8_t *b = s->adv->ciphertext_blob;
    if (s->adv->ciphertext_blob_len != blob_len(a, n) || b[0] != '$' ||
        b[1] != (a == ALG_GCM ? 0x00 : 0x01) || b[2] != (a == ALG_GCM ? 2 : 1) ||
        memcmp(b + 3, s->adv->key_version_id, KMS_KEY_VERSION_ID_LEN) != 0 ||
        s->adv->iv_len != iv_len(a) || memcmp(b + HDR_LEN, s->adv->iv, iv_len(a)) != 0)
        die("%s %zu B: the AdvanceEncrypt blob (%zu bytes) is not the documented layout (%zu bytes)",
            alg, n, s->adv->ciphertext_blob_len, blob_len(a, n));
    kms_decrypt_response *d = NULL;
    st = kms_advance_decrypt(s->client, b, s->adv->ciphertext_blob_len, NULL, NULL, NULL, 0, NULL, 0,
                             NULL, &d, &err);
    check_kms(st, &err, "kms_advance_decrypt (verify)");
    if (d->plaintext_len != n || memcmp(d->plaintext, s->pt, n) != 0)
        die("%s %zu B: kms_advance_decrypt(kms_advance_encrypt(x)) != x", alg, n);
    kms_decrypt_response_free(d);
    if (a == ALG_GCM) { /* a changed tag must be refused */
        uint8_t *bad = xmalloc(s->adv->ciphertext_blob_len);
        memcpy(bad, b, s->adv->ciphertext_blob_len);
        bad[s->adv->ciphertext_blob_len - 1] ^= 1;
        d = NULL;
        st = kms_advance_decrypt(s->client, bad, s->adv->ciphertext_blob_len, NULL, NULL, NULL, 0,
                                 NULL, 0, NULL, &d, &err);
        if (st != KMS_STATUS_INVALID_CIPHERTEXT)
            die("%s %zu B: kms_advance_decrypt of a changed tag returned %s, not InvalidCiphertext",
                alg, n, kms_status_code(st));
        kms_decrypt_response_free(d);
        free(bad);
    }

    /* localkms Encrypt -> Decrypt. */
    st = kms_encrypt(s->client, s->key_id, s->pt, n, alg, NULL, 0, NULL, 0, NULL, &s->enc, &err);
    check_kms(st, &err, "kms_encrypt (verify)");
    if (s->enc->ciphertext_blob_len != ct_len(a, n) || s->enc->iv_len != iv_len(a))
        die("%s %zu B: kms_encrypt returned %zu bytes (expected %zu), IV %zu bytes", alg, n,
            s->enc->ciphertext_blob_len, ct_len(a, n), s->enc->iv_len);
    d = NULL;
    st = kms_decrypt(s->client, s->enc->ciphertext_blob, s->enc->ciphertext_blob_len, s->key_id, alg,
                     s->enc->iv, s->enc->iv_len, NULL, 0, NULL, &d, &err);
    check_kms(st, &err, "kms_decrypt (verify)");
    if (d->plaintext_len != n || memcmp(d->plaintext, s->pt, n) != 0)
        die("%s %zu B: kms_decrypt(kms_encrypt(x)) != x", alg, n);
    kms_decrypt_response_free(d);

    /* Same-job anchor. */
    s->anchor_blob = anchor_encrypt(w, s->pt, n, &s->anchor_len);
    size_t m = 0;
    uint8_t *p = anchor_decrypt(w, s->anchor_blob, s->anchor_len, &m);
    if (p == NULL || m != n || memcmp(p, s->pt, n) != 0)
        die("%s %zu B: same-job decrypt(encrypt(x)) != x", alg, n);
    free(p);
    if (a == ALG_GCM) {
        s->anchor_blob[s->anchor_len - 1] ^= 1;
        p = anchor_decrypt(w, s->anchor_blob, s->anchor_len, &m);
        if (p != NULL)
            die("%s %zu B: same-job decrypt accepted a changed tag", alg, n);
        s->anchor_blob[s->anchor_len - 1] ^= 1;
    }

    /* Bare cipher: encrypt x in place, decrypt it back. */
    memcpy(w->buf, s->pt, n);
    op_bare_enc(w);
    s->bare_ct_len = a == ALG_GCM ? n : ct_len(a, n);
    s->bare_ct = xmalloc(s->bare_ct_len);
    memcpy(s->bare_ct, w->buf, s->bare_ct_len);
    if (a == ALG_GCM)
        check_evp(EVP_CIPHER_CTX_ctrl(w->ectx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, s->bare_tag),
                  "EVP_CTRL_GCM_GET_TAG");
    op_bare_dec(w);
    if (memcmp(w->out, s->pt, n) != 0)
        die("%s %zu B: bare decrypt(encrypt(x)) != x", alg, n);
    memcpy(w->buf, s->pt, n);
}

static void shared_free(struct shared *s) {
    kms_encrypt_response_free(s->adv);
    kms_encrypt_response_free(s->enc);
    free(s->anchor_blob);
    free(s->bare_ct);
}

/* ------------------------------------------------------------ measurement */

static void run_for(struct worker *w, double secs, uint64_t *ops_out, double *elapsed_out) {
    uint64_t ops = 0, chunk = 1;
    double start = measure_s(), last = start, t;
    /* --best: the fastest batch of the final size (per operation). */
    double best = 0;
    uint64_t best_chunk = 0;
    for (;;) {
        for (uint64_t i = 0; i < chunk; i++)
            w->op(w);
        ops += chunk;
        t = measure_s();
        int grown = t - last < 0.0005 && chunk < (1u << 20);
        if (!grown && (best_chunk == 0 || (t - last) / (double)chunk < best / (double)best_chunk)) {
            best = t - last;
            best_chunk = chunk;
        }
        if (t - start >= secs)
            break;
        if (grown)
            chunk *= 2;
        last = t;
    }
    if (g_best && best_chunk > 0 && best > 0) {
        *ops_out = best_chunk;
        *elapsed_out = best;
        return;
    }
    *ops_out = ops;
    *elapsed_out = t - start;
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    uint64_t ops;
    double secs;
    run_for(w, g_warm_time, &ops, &secs);
    int rc = pthread_barrier_wait(w->barrier);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die("pthread_barrier_wait failed");
    run_for(w, g_min_time, &w->ops, &w->secs);
    return NULL;
}

/* Aggregate operations per second of `op` on `nthreads` threads. */
static double measure(struct worker *workers, int nthreads, enum op op) {
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t barrier;
    if (pthread_barrier_init(&barrier, NULL, (unsigned)nthreads) != 0)
        die("pthread_barrier_init failed");
    for (int i = 0; i < nthreads; i++) {
        workers[i].op = OP_FN[op];
        workers[i].barrier = &barrier;
        if (pthread_create(&tid[i], NULL, worker_main, &workers[i]) != 0)
            die("pthread_create failed");
    }
    double rate = 0;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_join(tid[i], NULL) != 0)
            die("pthread_join failed");
        rate += (double)workers[i].ops / workers[i].secs;
    }
    pthread_barrier_destroy(&barrier);
    return rate;
}

/* --------------------------------------------------------------- latency */

struct rotator {
    kms_client *client;
    const char *key_id;
    atomic_bool stop;
    uint64_t rotations;
};

static void *rotator_main(void *arg) {
    struct rotator *r = arg;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        kms_error err;
        kms_status st = kms_key_rotate(r->client, r->key_id, NULL, &err);
        check_kms(st, &err, "kms_key_rotate");
        r->rotations++;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct latency {
    size_t samples;
    double p50, p99, p999, max; /* ns */
    uint64_t rotations;
    double rotate_secs;
};

static double pct(const uint64_t *v, size_t n, double p) {
    size_t k = (size_t)(p * (double)n + 0.999999); /* nearest rank */
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1];
}

/* Times each call of `op` on its own for g_lat_time seconds. */
static struct latency sample_latency(struct worker *w, void (*op)(struct worker *), int rotate) {
    struct latency L;
    memset(&L, 0, sizeof L);
    size_t cap = 4u * 1000 * 1000;
    uint64_t *v = xmalloc(cap * sizeof *v);
    struct rotator rot;
    pthread_t tid;
    rot.client = w->s->client;
    rot.key_id = w->s->key_id;
    atomic_init(&rot.stop, 0);
    rot.rotations = 0;
    double rstart = now_s();
    if (rotate && pthread_create(&tid, NULL, rotator_main, &rot) != 0)
        die("pthread_create failed");
    double warm_end = now_s() + g_warm_time;
    while (now_s() < warm_end)
        op(w);
    uint64_t end = now_ns() + (uint64_t)(g_lat_time * 1e9), t0, t1 = 0;
    size_t n = 0;
    while (n < cap) {
        t0 = now_ns();
        op(w);
        t1 = now_ns();
        v[n++] = t1 - t0;
        if (t1 >= end)
            break;
    }
    if (rotate) {
        atomic_store(&rot.stop, 1);
        if (pthread_join(tid, NULL) != 0)
            die("pthread_join failed");
    }
    L.rotate_secs = now_s() - rstart;
    qsort(v, n, sizeof *v, cmp_u64);
    L.samples = n;
    L.p50 = pct(v, n, 0.50);
    L.p99 = pct(v, n, 0.99);
    L.p999 = pct(v, n, 0.999);
    L.max = (double)v[n - 1];
    L.rotations = rot.rotations;
    free(v);
    return L;
}

/* ns per RAND_bytes of a 12-byte IV, the part of every same-job encrypt that
 * does not depend on the size. */
static double rand_bytes_ns(void) {
    uint8_t iv[GCM_IV];
    uint64_t ops = 0;
    double start = now_s(), t;
    do {
        for (int i = 0; i < 256; i++)
            check_evp(RAND_bytes(iv, sizeof iv), "RAND_bytes");
        ops += 256;
        t = now_s();
    } while (t - start < g_warm_time);
    return (t - start) * 1e9 / (double)ops;
}

static double timer_overhead_ns(void) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 100000; i++) {
        uint64_t a = now_ns(), b = now_ns();
        if (b - a < best)
            best = b - a;
    }
    return (double)best;
}

/* ------------------------------------------------------------------ report */

static void machine_line(void) {
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c != NULL) {
                    c++;
                    while (*c == ' ' || *c == '\t')
                        c++;
                    c[strcspn(c, "\n")] = '\0';
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        }
        fclose(f);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("Machine: %s, %ld cores online; %s; localkms %s, backend %s\n", model, cores,
           OpenSSL_version(OPENSSL_VERSION), kms_version(), KMS_BENCH_BACKEND);
}

static void fmt_time(char *buf, size_t len, size_t si, double rate) {
    if (SIZES[si] >= 16 * 1024)
        snprintf(buf, len, "%.0f MB/s", rate * (double)SIZES[si] / 1e6);
    else {
        double ns = 1e9 / rate;
        snprintf(buf, len, ns < 100 ? "%.1f ns" : "%.0f ns", ns);
    }
}

static void fmt_rate(char *buf, size_t len, double rate) {
    if (rate >= 1e6)
        snprintf(buf, len, "%.2f M/s", rate / 1e6);
    else if (rate >= 1e3)
        snprintf(buf, len, "%.1f k/s", rate / 1e3);
    else
        snprintf(buf, len, "%.0f /s", rate);
}

static void fmt_lat(char *buf, size_t len, double ns) {
    if (ns >= 1e6)
        snprintf(buf, len, "%.2f ms", ns / 1e6);
    else if (ns >= 1e4)
        snprintf(buf, len, "%.1f µs", ns / 1e3);
    else
        snprintf(buf, len, "%.0f ns", ns);
}

/* ------------------------------------------------------------------- main */

static double results[ALG_COUNT][NSIZES][MAX_THREADS][OP_COUNT]; /* ops per second */

static void usage(void) {
    fprintf(stderr, "usage: kms_vs_evp [--quick] [--time SECONDS] [--cpu] [--best]\n"
                    "  --quick         0.05 s per measurement (default 0.3 s)\n"
                    "  --time SECONDS  seconds per measurement\n"
                    "  --cpu           time throughput in each thread's CPU time (a machine\n"
                    "                  shared with other work; see bench/README.md)\n"
                    "  --best          throughput of each measurement's fastest batch\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            g_min_time = 0.05;
        } else if (strcmp(argv[i], "--cpu") == 0) {
            g_cpu_time = 1;
        } else if (strcmp(argv[i], "--best") == 0) {
            g_best = 1;
        } else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc) {
            char *end;
            g_min_time = strtod(argv[++i], &end);
            if (*end != '\0' || !(g_min_time > 0 && g_min_time < 100))
                usage();
        } else {
            usage();
        }
    }
    g_warm_time = g_min_time / 5;
    g_lat_time = g_min_time * 10 / 3; /* 1 s by default, 0.17 s quick */

    kms_client *client = NULL;
    kms_error err;
    check_kms(kms_client_open(NULL, &client, &err), &err, "kms_client_open");
    char *key_id = NULL;
    /* Keys permit only GCM unless created with block modes: this one also runs the
     * AES_CBC rows. */
    kms_create_key_options key_options;
    memset(&key_options, 0, sizeof key_options);
    key_options.key_spec = "Aliyun_AES_256";
    key_options.description = "kms_vs_evp";
    key_options.algorithms = "AES_GCM,AES_CBC";
    check_kms(kms_create_key_with_options(client, &key_options, &key_id, &err), &err,
              "kms_create_key_with_options");

    uint8_t evp_key[32];
    check_evp(RAND_bytes(evp_key, sizeof evp_key), "RAND_bytes");
    size_t max_n = SIZES[NSIZES - 1];
    uint8_t *pt = xmalloc(max_n);
    check_evp(RAND_bytes(pt, (int)max_n), "RAND_bytes");

    /* Is AES_CBC available for this key? */
    int have_cbc = 1;
    char cbc_note[1024] = "";
    {
        kms_encrypt_response *r = NULL;
        kms_status st = kms_advance_encrypt(client, key_id, pt, 16, "AES_CBC", NULL, 0, NULL, 0, NULL,
                                            &r, &err);
        if (st != KMS_STATUS_OK) {
            have_cbc = 0;
            snprintf(cbc_note, sizeof cbc_note,
                     "AES_CBC: UNAVAILABLE: kms_advance_encrypt(\"AES_CBC\") on a key created "
                     "with algorithms \"AES_GCM,AES_CBC\" returned %s (%u): %s; the AES_CBC "
                     "rows are skipped.",
                     err.code, (unsigned)st, err.message);
        }
        kms_encrypt_response_free(r);
    }

    double t_start = now_s();
    for (int a = 0; a < ALG_COUNT; a++) {
        if (a == ALG_CBC && !have_cbc)
            continue;
        for (size_t si = 0; si < NSIZES; si++) {
            struct shared s;
            memset(&s, 0, sizeof s);
            s.client = client;
            s.key_id = key_id;
            s.alg = (enum alg)a;
            s.n = SIZES[si];
            s.pt = pt;
            s.evp_key = evp_key;
            struct worker w[MAX_THREADS];
            for (int t = 0; t < MAX_THREADS; t++)
                worker_init(&w[t], &s);
            verify(&s, &w[0]);
            for (int nt = 1; nt <= MAX_THREADS; nt++) {
                fprintf(stderr, "kms_vs_evp: %s %s, %d thread%s ...\n", ALG_NAME[a], SIZE_NAME[si], nt,
                        nt > 1 ? "s" : "");
                for (int op = 0; op < OP_COUNT; op++)
                    results[a][si][nt - 1][op] = measure(w, nt, (enum op)op);
            }
            for (int t = 0; t < MAX_THREADS; t++)
                worker_free(&w[t]);
            shared_free(&s);
        }
    }

    /* Latency of kms_advance_encrypt at 64 B, alone and against a rotating thread. */
    fprintf(stderr, "kms_vs_evp: latency ...\n");
    struct latency lat_evp, lat_alone, lat_rot;
    double tov = timer_overhead_ns();
    double rand_ns = rand_bytes_ns();
    {
        struct shared s;
        memset(&s, 0, sizeof s);
        s.client = client;
        s.key_id = key_id;
        s.alg = ALG_GCM;
        s.n = 64;
        s.pt = pt;
        s.evp_key = evp_key;
        struct worker w;
        worker_init(&w, &s);
        verify(&s, &w);
        lat_evp = sample_latency(&w, op_job_enc, 0);
        lat_alone = sample_latency(&w, op_kms_adv_enc, 0);
        lat_rot = sample_latency(&w, op_kms_adv_enc, 1);
        worker_free(&w);
        shared_free(&s);
    }
    double t_total = now_s() - t_start;

    /* ---- report ---- */
    machine_line();
    printf("\n%.2f s per measurement after %.2f s of warm-up; latency %.2f s per scenario; "
           "whole run %.0f s.\n",
           g_min_time, g_warm_time, g_lat_time, t_total);
    if (g_cpu_time)
        printf("\nThroughput in CPU time (--cpu): each thread's operations per second of its "
               "own CPU time, so time spent waiting for a core is left out; with 2 threads "
               "the aggregate is what 2 idle cores would do, and a scaling figure below 2.00 "
               "means the threads slowed each other down. Latencies stay in wall time.\n");
    if (g_best)
        printf("\nBest batch (--best): each figure is the fastest batch of ~0.5 ms of its "
               "measurement, which leaves out the batches another process interrupted; "
               "with 2 threads it is the sum of each thread's best, not a scaling figure.\n");
    if (cbc_note[0] != '\0')
        printf("\n%s\n", cbc_note);
    printf("\nSizes up to 1 KiB in ns per operation (with 2 threads: wall time per operation of "
           "the aggregate, 1 / throughput), 16 KiB and 1 MiB in MB/s of plaintext "
           "(10^6 bytes/s, aggregate). Ratios are localkms time / anchor time: below 1.0 "
           "localkms is faster. Encrypt rows are compared with the anchors' encrypt, Decrypt "
           "rows with their decrypt. For reference, one RAND_bytes of a 12-byte IV (part of "
           "every same-job encrypt) takes %.0f ns here.\n\n",
           rand_ns);
    printf("| Algorithm | Size | Threads | Operation | localkms | localkms ops/s | same-job EVP | "
           "bare EVP | / same-job | / bare |\n");
    printf("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (int a = 0; a < ALG_COUNT; a++) {
        if (a == ALG_CBC && !have_cbc)
            continue;
        for (size_t si = 0; si < NSIZES; si++)
            for (int nt = 1; nt <= MAX_THREADS; nt++)
                for (int op = OP_KMS_ADV_ENC; op <= OP_KMS_DEC; op++) {
                    const double *r = results[a][si][nt - 1];
                    int dec = op == OP_KMS_ADV_DEC || op == OP_KMS_DEC;
                    double job = r[dec ? OP_JOB_DEC : OP_JOB_ENC];
                    double bare = r[dec ? OP_BARE_DEC : OP_BARE_ENC];
                    char c1[32], c2[32], c3[32], c4[32];
                    fmt_time(c1, sizeof c1, si, r[op]);
                    fmt_rate(c2, sizeof c2, r[op]);
                    fmt_time(c3, sizeof c3, si, job);
                    fmt_time(c4, sizeof c4, si, bare);
                    printf("| %s | %s | %d | %s | %s | %s | %s | %s | %.2f | %.2f |\n", ALG_NAME[a],
                           SIZE_NAME[si], nt, OP_NAME[op], c1, c2, c3, c4, job / r[op],
                           bare / r[op]);
                }
    }

    printf("\n2-thread scaling (aggregate throughput with 2 threads / with 1 thread; 2.00 is "
           "perfect on 2 idle cores):\n\n");
    printf("| Algorithm | Size | AdvanceEncrypt | Encrypt | AdvanceDecrypt | Decrypt | "
           "same-job enc | same-job dec | bare enc | bare dec |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int a = 0; a < ALG_COUNT; a++) {
        if (a == ALG_CBC && !have_cbc)
            continue;
        for (size_t si = 0; si < NSIZES; si++) {
            printf("| %s | %s |", ALG_NAME[a], SIZE_NAME[si]);
            for (int op = 0; op < OP_COUNT; op++)
                printf(" %.2f |", results[a][si][1][op] / results[a][si][0][op]);
            printf("\n");
        }
    }

    printf("\nLatency of one call, AES_GCM, 64 B (each call timed on its own; includes about "
           "%.0f ns of clock_gettime):\n\n",
           tov);
    printf("| Scenario | Samples | p50 | p99 | p99.9 | max | kms_key_rotate calls |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    const struct latency *Ls[3] = {&lat_evp, &lat_alone, &lat_rot};
    const char *names[3] = {"same-job EVP encrypt (reference)", "kms_advance_encrypt",
                            "kms_advance_encrypt, another thread in kms_key_rotate"};
    for (int i = 0; i < 3; i++) {
        char p50[32], p99[32], p999[32], mx[32], rot[64] = "-";
        fmt_lat(p50, sizeof p50, Ls[i]->p50);
        fmt_lat(p99, sizeof p99, Ls[i]->p99);
        fmt_lat(p999, sizeof p999, Ls[i]->p999);
        fmt_lat(mx, sizeof mx, Ls[i]->max);
        if (i == 2)
            snprintf(rot, sizeof rot, "%llu (%.0f /s)", (unsigned long long)Ls[i]->rotations,
                     (double)Ls[i]->rotations / Ls[i]->rotate_secs);
        printf("| %s | %zu | %s | %s | %s | %s | %s |\n", names[i], Ls[i]->samples, p50, p99, p999,
               mx, rot);
    }

    free(pt);
    kms_string_free(key_id);
    kms_client_free(client);
    OPENSSL_cleanse(evp_key, sizeof evp_key);
    return 0;
}
