package com.localkms;

import java.nio.file.Path;

/**
 * How to open a {@link LocalKms}: {@code kms_open_options}. With no key store path
 * the store lives in memory and goes with the client.
 *
 * <pre>{@code
 * OpenOptions options = OpenOptions.builder()
 *         .keystorePath(Path.of("/var/lib/app/keys.kms"))
 *         .masterKeyFile(Path.of("/etc/app/master.key"))   // mode 0600
 *         .createIfMissing(true)
 *         .build();
 * }</pre>
 */
public final class OpenOptions {
    private final String keystorePath;
    private final byte[] masterKey;
    private final String masterKeyFile;
    private final boolean createIfMissing;

    private OpenOptions(Builder b) {
        this.keystorePath = b.keystorePath;
        this.masterKey = b.masterKey;
        this.masterKeyFile = b.masterKeyFile;
        this.createIfMissing = b.createIfMissing;
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

    public static final class Builder {
        private String keystorePath;
        private byte[] masterKey;
        private String masterKeyFile;
        private boolean createIfMissing;

        private Builder() {
        }

        /** The store file; several clients and processes may share it. */
        public Builder keystorePath(Path path) {
            this.keystorePath = path == null ? null : path.toString();
            return this;
        }

        public Builder keystorePath(String path) {
            this.keystorePath = path;
            return this;
        }

        /**
         * The 32 bytes that seal the store file. Not copied (so that no copy of the
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

        /** Create the store file when it does not exist. */
        public Builder createIfMissing(boolean create) {
            this.createIfMissing = create;
            return this;
        }

        public OpenOptions build() {
            return new OpenOptions(this);
        }
    }
}
