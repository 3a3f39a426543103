package com.localkms;

import com.sun.jna.Native;
import com.sun.jna.Structure;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The JNA Structures have the C structs' sizes and field offsets (from interop.c's offsetof). */
public final class LayoutTest {
    private LayoutTest() {
    }

    private interface Offsets {
        int of(String field);
    }

    public static void testStructLayoutsMatchC() throws Exception {
        TestEnv.Run run = TestEnv.runInterop(false, "layout");
        Map<String, Long> c = new HashMap<>();
        for (String line : run.stdout.split("\n")) {
            String[] parts = line.trim().split(" ");
            c.put(parts[0], Long.parseLong(parts[1]));
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
        Check.equal(8, Native.SIZE_T_SIZE, "size_t on this platform");
        Check.equal((long) Native.SIZE_T_SIZE, (long) Native.getNativeSize(NativeLib.SizeT.class, new NativeLib.SizeT()), "SizeT size");
    }

    private static void compare(Map<String, Long> c, String struct, Structure s, Offsets offsets) {
        Check.equal(c.get(struct), (long) s.size(), "sizeof(struct " + struct + ")");
        List<String> fields = s.getClass().getAnnotation(Structure.FieldOrder.class) == null
                ? List.of() : List.of(s.getClass().getAnnotation(Structure.FieldOrder.class).value());
        int seen = 0;
        for (String field : fields) {
            Long expected = c.get(struct + "." + field);
            Check.isTrue(expected != null, "the C program prints no offset of " + struct + "." + field);
            Check.equal(expected, (long) offsets.of(field), "offsetof(" + struct + ", " + field + ")");
            seen++;
        }
        long cFields = c.keySet().stream().filter(k -> k.startsWith(struct + ".")).count();
        Check.equal(cFields, (long) seen, "number of fields of " + struct);
    }
}
