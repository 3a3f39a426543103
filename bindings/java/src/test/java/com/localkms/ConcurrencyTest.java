package com.localkms;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client, many threads through the binding (JNA calls, response frees, the
 * Java clock callback), with a rotating key as load; close under load. What
 * rotation under threads does to versions is the Rust suite's (tests/threads.rs).
 */
final class ConcurrencyTest {
    private static final int THREADS = 16;
    private static final int OPERATIONS = 100;

    /** What one encryption made. */
    private static final class Made {
        final byte[] plaintext;
        final byte[] blob;
        final String version;
        final boolean advance;
        final byte[] iv;

        Made(byte[] plaintext, EncryptResult r, boolean advance) {
            this.plaintext = plaintext;
            this.blob = r.getCiphertextBlob();
            this.version = r.getKeyVersionId();
            this.advance = advance;
            this.iv = r.getIv();
        }
    }

    /** 16 threads x 100 operations while another thread rotates; every blob decrypts afterwards. */
    @Test
    void testManyThreadsWhileRotating() throws Exception {
        try (LocalKms kms = LocalKms.openInMemory()) {
            String key = TestEnv.allAesKey(kms); // a quarter of the blobs are AES_CBC
            kms.createAlias("alias/busy", key);
            ConcurrentLinkedQueue<Made> made = new ConcurrentLinkedQueue<>();
            Set<String> rotatedTo = Collections.synchronizedSet(new HashSet<>());
            AtomicBoolean done = new AtomicBoolean();
            CountDownLatch start = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            try {
                Future<?> rotator = pool.submit(() -> {
                    start.await();
                    while (!done.get()) {
                        rotatedTo.add(kms.rotateKey("alias/busy"));
                        Thread.sleep(10);
                    }
                    return null;
                });
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    final int thread = t;
                    workers.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < OPERATIONS; i++) {
                            byte[] plaintext = ByteBuffer.allocate(12 + (i % 40)).putInt(thread).putInt(i)
                                    .array();
                            switch (i % 4) {
                                case 0: {
                                    EncryptResult r = kms.advanceEncrypt(EncryptRequest.builder("alias/busy")
                                            .plaintext(plaintext).algorithm(Algorithm.AES_CBC).build());
                                    made.add(new Made(plaintext, r, true));
                                    break;
                                }
                                case 1: {
                                    made.add(new Made(plaintext, kms.encrypt(key, plaintext), false));
                                    break;
                                }
                                case 2: {
                                    EncryptResult r = kms.advanceEncrypt(key, plaintext);
                                    try (DecryptResult d = kms.advanceDecrypt(r.getCiphertextBlob())) {
                                        Check.bytes(plaintext, d.getPlaintext(), "immediate decrypt");
                                        Check.equal(r.getKeyVersionId(), d.getKeyVersionId(), "immediate version");
                                    }
                                    made.add(new Made(plaintext, r, true));
                                    break;
                                }
                                default: {
                                    try (DataKeyResult dk = kms.advanceGenerateDataKey("alias/busy", 16, null);
                                            DecryptResult d = kms.advanceDecrypt(dk.getCiphertextBlob())) {
                                        Check.bytes(dk.getPlaintext(), d.getPlaintext(), "data key");
                                    }
                                    break;
                                }
                            }
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> w : workers) {
                    w.get(300, TimeUnit.SECONDS);
                }
                done.set(true);
                rotator.get(60, TimeUnit.SECONDS);
            } finally {
                done.set(true);
                pool.shutdownNow();
                pool.awaitTermination(60, TimeUnit.SECONDS);
            }

            Check.equal(THREADS * OPERATIONS * 3 / 4, made.size(), "blobs made");
            for (Made m : made) {
                DecryptRequest req = m.advance ? DecryptRequest.builder(m.blob).build()
                        : DecryptRequest.builder(m.blob).keyId(key).iv(m.iv).build();
                try (DecryptResult d = m.advance ? kms.advanceDecrypt(req) : kms.decrypt(req)) {
                    Check.bytes(m.plaintext, d.getPlaintext(), "plaintext afterwards");
                    Check.equal(m.version, d.getKeyVersionId(), "version afterwards");
                }
            }
            Check.isTrue(rotatedTo.size() > 1, "the rotator made versions: " + rotatedTo.size());
        }
    }

    /** close() waits for running calls; calls after it throw IllegalStateException, never crash. */
    @Test
    void testCloseUnderLoad() throws Exception {
        LocalKms kms = LocalKms.openInMemory();
        String key = kms.createKey();
        AtomicInteger succeeded = new AtomicInteger();
        AtomicInteger closedSeen = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                try {
                    while (true) {
                        EncryptResult r = kms.advanceEncrypt(key, TestEnv.utf8("load"));
                        try (DecryptResult d = kms.advanceDecrypt(r.getCiphertextBlob())) {
                            Check.bytes(TestEnv.utf8("load"), d.getPlaintext(), "under load");
                        }
                        succeeded.incrementAndGet();
                    }
                } catch (IllegalStateException closed) {
                    closedSeen.incrementAndGet();
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        Thread.sleep(200);
        kms.close();
        for (Thread th : threads) {
            th.join(30_000);
            Check.isTrue(!th.isAlive(), "a worker still runs after close()");
        }
        if (!unexpected.isEmpty()) {
            throw new AssertionError("unexpected failure under load", unexpected.peek());
        }
        Check.equal(8, closedSeen.get(), "workers that saw the client closed");
        Check.isTrue(succeeded.get() > 0, "no call succeeded before close()");
    }

    /** The clock supplier is called from many threads at once. */
    @Test
    void testClockFromManyThreads() throws Exception {
        try (LocalKms kms = LocalKms.openInMemory()) {
            Set<String> callers = Collections.synchronizedSet(new HashSet<>());
            kms.setClock(() -> {
                callers.add(Thread.currentThread().getName());
                return System.currentTimeMillis() / 1000L;
            });
            String key = kms.createKey();
            kms.updateRotationPolicy(key, true, "30d");
            List<Thread> threads = new ArrayList<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            for (int t = 0; t < 8; t++) {
                Thread th = new Thread(() -> {
                    try {
                        for (int i = 0; i < 50; i++) {
                            kms.advanceEncrypt(key, TestEnv.utf8("tick"));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "clock-worker-" + t);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join(60_000);
            }
            if (!failures.isEmpty()) {
                throw new AssertionError("failure with a Java clock", failures.peek());
            }
            long workers = callers.stream().filter(n -> n.startsWith("clock-worker-")).count();
            Check.isTrue(workers > 1, "the clock ran on several worker threads: " + callers);
        }
    }
}
