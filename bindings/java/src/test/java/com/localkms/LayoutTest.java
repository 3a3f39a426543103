package com.localkms;

import org.junit.jupiter.api.Test;

import com.sun.jna.Native;
import com.sun.jna.Structure;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JNA Structures have the C structs' sizes and their fields' offsets and sizes
 * (from interop.c's sizeof and offsetof). The field sizes matter: a one-byte field
 * where C has an int flag keeps every offset and, thanks to the padding, the
 * struct's size.
 */
final class LayoutTest {
    private interface Offsets {
        int of(String field);
    }

    /** interop.c's layout lines: "struct size" and "struct.field offset size". */
    private static final class CLayout {
        final Map<String, Long> values = new HashMap<>();
        final Map<String, Long> fieldSizes = new HashMap<>();
    }

    @Test
    void testStructLayoutsMatchC() throws Exception {
        TestEnv.Run run = TestEnv.runInterop(false, "layout");
        CLayout c = new CLayout();
        for (String line : run.stdout.split("\n")) {
            String[] parts = line.trim().split(" ");
            c.values.put(parts[0], Long.parseLong(parts[1]));
            if (parts.length > 2) {
                c.fieldSizes.put(parts[0], Long.parseLong(parts[2]));
            }
        }
        NativeLib.KmsError err = new NativeLib.KmsError();
        compare(c, "kms_error", err, err::offsetOf);
        NativeLib.OpenOptionsStruct open = new NativeLib.OpenOptionsStruct();
        compare(c, "kms_open_options", open, open::offsetOf);
        NativeLib.EncryptResponse enc = new NativeLib.EncryptResponse();
        compare(c, "kms_encrypt_response", enc, enc::offsetOf);
        NativeLib.DecryptResponse dec = new NativeLib.DecryptResponse();
        compare(c, "kms_decrypt_response", dec, dec::offsetOf);
        NativeLib.DataKeyResponse dk = new NativeLib.DataKeyResponse();
        compare(c, "kms_data_key_response", dk, dk::offsetOf);
        NativeLib.CreateKeyOptionsStruct ck = new NativeLib.CreateKeyOptionsStruct();
        compare(c, "kms_create_key_options", ck, ck::offsetOf);
        // Every struct the C program prints was compared.
        for (String name : c.values.keySet()) {
            if (!name.contains(".")) {
                Check.isTrue(COMPARED.contains(name), "the test compares no Structure with struct " + name);
            }
        }
        Check.equal(8, Native.SIZE_T_SIZE, "size_t on this platform");
        Check.equal((long) Native.SIZE_T_SIZE, (long) Native.getNativeSize(NativeLib.SizeT.class, new NativeLib.SizeT()), "SizeT size");
    }

    /** The native size of a Structure's field, as JNA lays it out. */
    private static long fieldSize(Structure s, String field) throws ReflectiveOperationException {
        Field f = s.getClass().getField(field);
        return Native.getNativeSize(f.getType(), f.get(s));
    }

    private static final Set<String> COMPARED = new HashSet<>();

    private static void compare(CLayout c, String struct, Structure s, Offsets offsets)
            throws ReflectiveOperationException {
        COMPARED.add(struct);
        Check.equal(c.values.get(struct), (long) s.size(), "sizeof(struct " + struct + ")");
        List<String> fields = s.getClass().getAnnotation(Structure.FieldOrder.class) == null
                ? List.of() : List.of(s.getClass().getAnnotation(Structure.FieldOrder.class).value());
        int seen = 0;
        for (String field : fields) {
            String name = struct + "." + field;
            Long expected = c.values.get(name);
            Check.isTrue(expected != null, "the C program prints no offset of " + name);
            Check.equal(expected, (long) offsets.of(field), "offsetof(" + struct + ", " + field + ")");
            Check.isTrue(c.fieldSizes.containsKey(name), "the C program prints no size of " + name);
            Check.equal(c.fieldSizes.get(name), fieldSize(s, field), "sizeof(" + name + ")");
            seen++;
        }
        long cFields = c.values.keySet().stream().filter(k -> k.startsWith(struct + ".")).count();
        Check.equal(cFields, (long) seen, "number of fields of " + struct);
    }
}
