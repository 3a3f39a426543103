package com.localkms;

import com.sun.jna.Callback;
import com.sun.jna.IntegerType;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;

import java.nio.charset.StandardCharsets;
import java.util.Collections;

/**
 * The raw JNA binding of {@code include/localkms.h}: one Java method per C
 * function, one {@link Structure} per C struct, field for field. Internal: use
 * {@link LocalKms}, which owns every pointer and frees every output.
 *
 * <p>Type mapping: {@code kms_status} and {@code uint32_t} are {@code int};
 * {@code uint16_t} is {@code short} (read as unsigned); {@code int64_t} is
 * {@code long}; {@code int32_t} is {@code int}; {@code size_t} is {@link SizeT}
 * ({@link Native#SIZE_T_SIZE} bytes); the header has no {@code bool}: its flags
 * ({@code create_if_missing}, {@code enable_automatic_rotation}) are C {@code int}
 * (0 = false, any other value = true), mapped to {@code int} here, never to
 * {@code boolean} (JNA passes a Java {@code true} as the int -1), and
 * {@link LocalKms} passes 1 or 0; every
 * {@code T *} output the library allocates is a {@link Pointer}, freed with its
 * {@code kms_*_free} function; {@code const char *} inputs are {@link String}s
 * (UTF-8).
 */
interface NativeLib extends Library {

    /** The library, loaded once from {@code jna.library.path} (or the system paths). */
    NativeLib INSTANCE = Native.load("localkms", NativeLib.class,
            Collections.singletonMap(Library.OPTION_STRING_ENCODING, StandardCharsets.UTF_8.name()));

    /** C {@code size_t}: unsigned, {@link Native#SIZE_T_SIZE} bytes. */
    final class SizeT extends IntegerType {
        private static final long serialVersionUID = 1L;

        public SizeT() {
            this(0);
        }

        public SizeT(long value) {
            super(Native.SIZE_T_SIZE, value, true);
        }
    }

    /**
     * {@code struct kms_error}: {@code kms_status status; uint16_t http_status;
     * char code[64]; char message[512]; char request_id[40];}.
     */
    @Structure.FieldOrder({"status", "http_status", "code", "message", "request_id"})
    final class KmsError extends Structure {
        public int status;
        public short http_status;
        public byte[] code = new byte[64];
        public byte[] message = new byte[512];
        public byte[] request_id = new byte[40];

        public KmsError() {
            super();
        }

        /** Offset of a field, for the layout test against C's offsetof. */
        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /**
     * {@code struct kms_open_options}: {@code const char *keystore_path; const
     * uint8_t *master_key; size_t master_key_len; const char *master_key_file;
     * int create_if_missing; const char *keystore_url;}.
     */
    @Structure.FieldOrder({"keystore_path", "master_key", "master_key_len", "master_key_file",
            "create_if_missing", "keystore_url"})
    final class OpenOptionsStruct extends Structure {
        public Pointer keystore_path;
        public Pointer master_key;
        public SizeT master_key_len = new SizeT();
        public Pointer master_key_file;
        /** C {@code int} flag: 0 = false, any other value = true. */
        public int create_if_missing;
        public Pointer keystore_url;

        public OpenOptionsStruct() {
            super();
        }

        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /**
     * {@code struct kms_encrypt_response}: {@code uint8_t *ciphertext_blob; size_t
     * ciphertext_blob_len; char *key_id; char *key_version_id; char *algorithm;
     * uint8_t *iv; size_t iv_len; char *padding_mode; char *request_id;}.
     */
    @Structure.FieldOrder({"ciphertext_blob", "ciphertext_blob_len", "key_id", "key_version_id",
            "algorithm", "iv", "iv_len", "padding_mode", "request_id"})
    final class EncryptResponse extends Structure {
        public Pointer ciphertext_blob;
        public SizeT ciphertext_blob_len;
        public Pointer key_id;
        public Pointer key_version_id;
        public Pointer algorithm;
        public Pointer iv;
        public SizeT iv_len;
        public Pointer padding_mode;
        public Pointer request_id;

        public EncryptResponse() {
            super();
        }

        /** A view of a response the library allocated; reads it at once. */
        EncryptResponse(Pointer p) {
            super(p);
            read();
        }

        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /**
     * {@code struct kms_decrypt_response}: {@code uint8_t *plaintext; size_t
     * plaintext_len; char *key_id; char *key_version_id; char *algorithm; char
     * *padding_mode; char *request_id;}.
     */
    @Structure.FieldOrder({"plaintext", "plaintext_len", "key_id", "key_version_id", "algorithm",
            "padding_mode", "request_id"})
    final class DecryptResponse extends Structure {
        public Pointer plaintext;
        public SizeT plaintext_len;
        public Pointer key_id;
        public Pointer key_version_id;
        public Pointer algorithm;
        public Pointer padding_mode;
        public Pointer request_id;

        public DecryptResponse() {
            super();
        }

        DecryptResponse(Pointer p) {
            super(p);
            read();
        }

        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /**
     * {@code struct kms_data_key_response}: {@code uint8_t *plaintext; size_t
     * plaintext_len; uint8_t *ciphertext_blob; size_t ciphertext_blob_len; char
     * *key_id; char *key_version_id; char *algorithm; uint8_t *iv; size_t iv_len;
     * char *request_id;}.
     */
    @Structure.FieldOrder({"plaintext", "plaintext_len", "ciphertext_blob", "ciphertext_blob_len",
            "key_id", "key_version_id", "algorithm", "iv", "iv_len", "request_id"})
    final class DataKeyResponse extends Structure {
        public Pointer plaintext;
        public SizeT plaintext_len;
        public Pointer ciphertext_blob;
        public SizeT ciphertext_blob_len;
        public Pointer key_id;
        public Pointer key_version_id;
        public Pointer algorithm;
        public Pointer iv;
        public SizeT iv_len;
        public Pointer request_id;

        public DataKeyResponse() {
            super();
        }

        DataKeyResponse(Pointer p) {
            super(p);
            read();
        }

        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /**
     * {@code struct kms_create_key_options}: {@code const char *key_spec; const char
     * *key_usage; const char *origin; const char *description; const char *key_id;
     * const char *algorithms;}. Every field is a caller-owned NUL-terminated UTF-8
     * string or NULL (the default).
     */
    @Structure.FieldOrder({"key_spec", "key_usage", "origin", "description", "key_id", "algorithms"})
    final class CreateKeyOptionsStruct extends Structure {
        public Pointer key_spec;
        public Pointer key_usage;
        public Pointer origin;
        public Pointer description;
        public Pointer key_id;
        /** A comma list, e.g. {@code "AES_GCM,AES_CBC,AES_ECB"}. */
        public Pointer algorithms;

        public CreateKeyOptionsStruct() {
            super();
        }

        int offsetOf(String field) {
            return fieldOffset(field);
        }
    }

    /** {@code typedef int64_t (*kms_clock_fn)(void *context);} */
    interface ClockFn extends Callback {
        long invoke(Pointer context);
    }

    // --- client -----------------------------------------------------------------

    int kms_client_open(OpenOptionsStruct options, PointerByReference client_out, KmsError error);

    void kms_client_free(Pointer client);

    int kms_client_set_clock(Pointer client, ClockFn clock, Pointer context, KmsError error);

    Pointer kms_version();

    Pointer kms_status_code(int status);

    short kms_status_http_status(int status);

    // --- encryption -------------------------------------------------------------

    int kms_advance_encrypt(Pointer client, String key_id, Pointer plaintext, SizeT plaintext_len,
            String algorithm, byte[] iv, SizeT iv_len, byte[] aad, SizeT aad_len, String padding_mode,
            PointerByReference response_out, KmsError error);

    int kms_encrypt(Pointer client, String key_id, Pointer plaintext, SizeT plaintext_len,
            String algorithm, byte[] iv, SizeT iv_len, byte[] aad, SizeT aad_len, String padding_mode,
            PointerByReference response_out, KmsError error);

    void kms_encrypt_response_free(Pointer response);

    int kms_advance_decrypt(Pointer client, byte[] ciphertext_blob, SizeT ciphertext_blob_len,
            String key_id, String algorithm, byte[] iv, SizeT iv_len, byte[] aad, SizeT aad_len,
            String padding_mode, PointerByReference response_out, KmsError error);

    int kms_decrypt(Pointer client, byte[] ciphertext_blob, SizeT ciphertext_blob_len,
            String key_id, String algorithm, byte[] iv, SizeT iv_len, byte[] aad, SizeT aad_len,
            String padding_mode, PointerByReference response_out, KmsError error);

    void kms_decrypt_response_free(Pointer response);

    int kms_advance_generate_data_key(Pointer client, String key_id, int number_of_bytes,
            byte[] aad, SizeT aad_len, PointerByReference response_out, KmsError error);

    int kms_generate_data_key(Pointer client, String key_id, int number_of_bytes,
            byte[] aad, SizeT aad_len, PointerByReference response_out, KmsError error);

    void kms_data_key_response_free(Pointer response);

    // --- versions and rotation --------------------------------------------------

    int kms_key_rotate(Pointer client, String key_id, PointerByReference key_version_id_out,
            KmsError error);

    /** {@code enable_automatic_rotation} is a C {@code int} flag: 0 = false, any other value = true. */
    int kms_update_rotation_policy(Pointer client, String key_id, int enable_automatic_rotation,
            String rotation_interval, KmsError error);

    // --- keys and aliases -------------------------------------------------------

    int kms_create_key(Pointer client, String key_spec, String key_usage, String origin,
            String description, PointerByReference key_id_out, KmsError error);

    int kms_create_key_with_options(Pointer client, CreateKeyOptionsStruct options,
            PointerByReference key_id_out, KmsError error);

    int kms_import_key_version(Pointer client, String key_id, String key_version_id, Pointer material,
            SizeT material_len, long key_material_expire_unix, KmsError error);

    int kms_import_key_material(Pointer client, String key_id, Pointer key_material,
            SizeT key_material_len, long key_material_expire_unix, KmsError error);

    int kms_enable_key(Pointer client, String key_id, KmsError error);

    int kms_disable_key(Pointer client, String key_id, KmsError error);

    int kms_schedule_key_deletion(Pointer client, String key_id, int pending_window_in_days,
            KmsError error);

    int kms_cancel_key_deletion(Pointer client, String key_id, KmsError error);

    int kms_create_alias(Pointer client, String alias_name, String key_id, KmsError error);

    int kms_update_alias(Pointer client, String alias_name, String key_id, KmsError error);

    int kms_delete_alias(Pointer client, String alias_name, KmsError error);

    int kms_describe_key(Pointer client, String key_id, PointerByReference json_out, KmsError error);

    int kms_list_keys(Pointer client, PointerByReference json_out, KmsError error);

    int kms_list_key_versions(Pointer client, String key_id, PointerByReference json_out,
            KmsError error);

    int kms_list_aliases(Pointer client, PointerByReference json_out, KmsError error);

    void kms_string_free(Pointer string);
}
