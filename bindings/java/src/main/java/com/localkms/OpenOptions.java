package com.localkms;

import java.nio.file.Path;

/**
 * How to open a {@link LocalKms}: {@code kms_open_options}. With neither a key
 * store path nor a key store URL the store lives in memory and goes with the client.
 *
 * <pre>{@code
 * OpenOptions options = OpenOptions.builder()
 *         .keystorePath(Path.of("/var/lib/app/keys.kms"))   // an SQLite database
 *         .masterKeyFile(Path.of("/etc/app/master.key"))   // mode 0600
 *         .createIfMissing(true)
 *         .build();
 * OpenOptions shared = OpenOptions.builder()
 *         .keystoreUrl("postgresql://app@%2Fvar%2Frun%2Fpostgresql/keys")   // PostgreSQL
 *         .masterKeyFile(Path.of("/etc/app/master.key"))
 *         .build();
 * }</pre>
 */
public final class OpenOptions {
    private final String keystorePath;
    private final byte[] masterKey;
    private final String masterKeyFile;
    private final boolean createIfMissing;
    private final String keystoreUrl;

    private OpenOptions(Builder b) {
        this.keystorePath = b.keystorePath;
        this.masterKey = b.masterKey;
        this.masterKeyFile = b.masterKeyFile;
        this.createIfMissing = b.createIfMissing;
        this.keystoreUrl = b.keystoreUrl;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: an in-memory store. */
    public static OpenOptions inMemory() {
        return builder().build();
    }

    String keystorePath() {
        return keystorePath;
    }

    /** The caller's master-key array (not a copy). */
    byte[] masterKey() {
        return masterKey;
    }

    String masterKeyFile() {
        return masterKeyFile;
    }

    boolean createIfMissing() {
        return createIfMissing;
    }

    String keystoreUrl() {
        return keystoreUrl;
    }

    public static final class Builder {
        private String keystorePath;
        private byte[] masterKey;
        private String masterKeyFile;
        private boolean createIfMissing;
        private String keystoreUrl;

        private Builder() {
        }

        /**
         * The embedded store, an SQLite database file (the library keeps
         * {@code <path>-wal} and {@code <path>-shm} beside it); several clients and
         * processes may share it. Not together with {@link #keystoreUrl}.
         */
        public Builder keystorePath(Path path) {
            this.keystorePath = path == null ? null : path.toString();
            return this;
        }

        public Builder keystorePath(String path) {
            this.keystorePath = path;
            return this;
        }

        /**
         * The 32 bytes that seal the store at rest. Not copied (so that no copy of the
         * key is left in the Java heap): keep the array intact until
         * {@link LocalKms#open} returns, then wipe it with {@code Arrays.fill}.
         * {@code open} copies it into native memory for the call and zeroes that copy afterwards.
         */
        public Builder masterKey(byte[] key) {
            this.masterKey = key;
            return this;
        }

        /** A file holding the master key (32 raw bytes or 64 hex digits), mode 0600 or stricter. */
        public Builder masterKeyFile(Path file) {
            this.masterKeyFile = file == null ? null : file.toString();
            return this;
        }

        public Builder masterKeyFile(String file) {
            this.masterKeyFile = file;
            return this;
        }

        /**
         * Create the store when it does not exist: the SQLite file, or the
         * {@code localkms_*} tables in the PostgreSQL database.
         */
        public Builder createIfMissing(boolean create) {
            this.createIfMissing = create;
            return this;
        }

        /**
         * A shared PostgreSQL store, {@code "postgresql://user@host/db"} (a Unix
         * socket as a percent-encoded host:
         * {@code "postgresql://user@%2Fvar%2Frun%2Fpostgresql/db"}), or null. The
         * database must exist. Not together with {@link #keystorePath}: that is
         * {@code InvalidParameter} from {@link LocalKms#open}.
         */
        public Builder keystoreUrl(String url) {
            this.keystoreUrl = url;
            return this;
        }

        public OpenOptions build() {
            return new OpenOptions(this);
        }
    }
}
