package com.localkms;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shared helpers: a scratch folder, master-key files, the C helper program.
 *
 * <p>The Java binding's tests keep to what is the binding's own: JNA struct
 * layouts, status to {@link KmsException}, builders, wiping, close and the
 * cleaner, the clock callback, threads through JNA, blobs exchanged with
 * examples/interop/interop.c. What the library does with versions, rotation
 * schedules, expiry and deletion is tested once, in the Rust suite
 * (tests/service_behaviour.rs, tests/threads.rs); each area has at most one
 * smoke test here.
 */
final class TestEnv {
    static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static Path workDir;

    private TestEnv() {
    }

    static synchronized Path workDir() throws IOException {
        if (workDir == null) {
            String dir = System.getProperty("localkms.workdir");
            workDir = dir != null ? Files.createDirectories(Path.of(dir))
                    : Files.createTempDirectory("localkms-java-");
        }
        return workDir;
    }

    /** A fresh folder under the scratch folder. */
    static Path freshDir(String name) throws IOException {
        return Files.createDirectories(workDir().resolve(name + "-" + COUNTER.incrementAndGet()));
    }

    /**
     * A key that permits every AES algorithm, for the tests that use AES_CBC or
     * AES_ECB: a key created without algorithms permits AES_GCM only.
     */
    static String allAesKey(LocalKms kms, String keySpec) {
        return kms.createKey(CreateKeyRequest.builder().keySpec(keySpec)
                .algorithms(Algorithm.AES_GCM, Algorithm.AES_CBC, Algorithm.AES_ECB).build());
    }

    static String allAesKey(LocalKms kms) {
        return allAesKey(kms, null);
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The files of a closed store: an SQLite database, no lock file beside it, and
     * its {@code -wal} and {@code -shm}, where they are left, mode 0600 like it.
     */
    static void checkSqliteStore(Path store) throws IOException {
        byte[] data = Files.readAllBytes(store);
        byte[] magic = utf8("SQLite format 3\0");
        Check.isTrue(data.length >= magic.length
                && java.util.Arrays.equals(magic, java.util.Arrays.copyOf(data, magic.length)),
                store + " is an SQLite database");
        Check.isTrue(!Files.exists(Path.of(store + ".lock"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "no lock file beside " + store);
        for (String suffix : new String[] {"-wal", "-shm"}) {
            Path p = Path.of(store + suffix);
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Check.isTrue(Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS), p + " is a file");
                Check.equal("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)),
                        "mode of " + p);
            }
        }
        Check.equal("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store)),
                "mode of " + store);
    }

    /** Writes a 32-byte master key to a new file created mode 0600. */
    static Path masterKeyFile(Path dir, byte[] key) throws IOException {
        Path file = dir.resolve("master-" + COUNTER.incrementAndGet() + ".key");
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, key);
        return file;
    }

    /** The compiled examples/interop/interop.c, from the environment's LOCALKMS_INTEROP. */
    static Path interop() {
        String p = System.getenv("LOCALKMS_INTEROP");
        if (p == null || !Files.isExecutable(Path.of(p))) {
            throw new AssertionError("LOCALKMS_INTEROP must name the compiled examples/interop/interop.c"
                    + " (bindings/java/run-tests.sh builds it); got " + p);
        }
        return Path.of(p);
    }

    /** The result of running the C helper. */
    static final class Run {
        final int exitCode;
        final String stdout;
        final String stderr;

        Run(int exitCode, String stdout, String stderr) {
            this.exitCode = exitCode;
            this.stdout = stdout;
            this.stderr = stderr;
        }
    }

    /** Runs the C helper with {@code args}; fails on a non-zero exit unless {@code mayFail}. */
    static Run runInterop(boolean mayFail, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(interop().toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(workDir(), "interop", ".out");
        Path err = Files.createTempFile(workDir(), "interop", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("interop " + cmd + " timed out");
        }
        Run r = new Run(p.exitValue(), Files.readString(out).trim(), Files.readString(err).trim());
        if (r.exitCode != 0 && !mayFail) {
            throw new AssertionError("interop " + cmd + " exited " + r.exitCode + ": " + r.stderr);
        }
        return r;
    }
}
