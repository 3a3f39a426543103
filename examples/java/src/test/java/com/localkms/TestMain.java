package com.localkms;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A tiny test harness (no JUnit): runs every {@code public static void test*()}
 * method of the test classes below, in name order, catches failures, prints
 * one line per test and closes with {@code java: N passed, M failed}. Exits 1 on
 * any failure, 2 when the run hangs past the watchdog.
 *
 * <p>Arguments: optional substrings; only tests whose {@code Class.method} name
 * contains one of them run. System properties: {@code localkms.workdir} (scratch
 * folder; default a fresh temp folder), {@code localkms.interop} (the compiled
 * {@code testdata/interop.c}; the interop and layout tests fail without it).
 */
public final class TestMain {
    private static final Class<?>[] TEST_CLASSES = {
        ClientTest.class,
        LayoutTest.class,
        RoundTripTest.class,
        RotationTest.class,
        DataKeyTest.class,
        AliasTest.class,
        KeyLifecycleTest.class,
        CreateKeyOptionsTest.class,
        ErrorTest.class,
        FlagsTest.class,
        ClockTest.class,
        InteropTest.class,
        ConcurrencyTest.class,
    };

    private static final long WATCHDOG_SECONDS = 600;

    private TestMain() {
    }

    public static void main(String[] args) throws Exception {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(WATCHDOG_SECONDS * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("FAIL the run took longer than " + WATCHDOG_SECONDS + " s; stopping");
            System.out.flush();
            Runtime.getRuntime().halt(2);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        System.out.println("localkms " + LocalKms.version() + ", JNA "
                + com.sun.jna.Native.VERSION + ", Java " + System.getProperty("java.version"));
        List<Method> tests = new ArrayList<>();
        for (Class<?> c : TEST_CLASSES) {
            Method[] methods = c.getDeclaredMethods();
            Arrays.sort(methods, Comparator.comparing(Method::getName));
            for (Method m : methods) {
                int mod = m.getModifiers();
                if (m.getName().startsWith("test") && Modifier.isStatic(mod) && Modifier.isPublic(mod)
                        && m.getParameterCount() == 0 && selected(name(m), args)) {
                    tests.add(m);
                }
            }
        }

        int passed = 0;
        int failed = 0;
        List<String> failures = new ArrayList<>();
        for (Method m : tests) {
            long start = System.nanoTime();
            Throwable failure = null;
            try {
                m.invoke(null);
            } catch (InvocationTargetException e) {
                failure = e.getCause();
            } catch (ReflectiveOperationException e) {
                failure = e;
            }
            long ms = (System.nanoTime() - start) / 1_000_000L;
            if (failure == null) {
                passed++;
                System.out.printf("PASS %s (%d ms)%n", name(m), ms);
            } else {
                failed++;
                failures.add(name(m));
                System.out.printf("FAIL %s (%d ms): %s%n", name(m), ms, failure);
                StringWriter trace = new StringWriter();
                failure.printStackTrace(new PrintWriter(trace));
                for (String line : trace.toString().split("\n")) {
                    System.out.println("    " + line);
                }
            }
        }
        if (!failures.isEmpty()) {
            System.out.println("failed: " + String.join(", ", failures));
        }
        if (tests.isEmpty()) {
            System.out.println("no test matched " + Arrays.toString(args));
            failed++;
        }
        System.out.println("java: " + passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }

    private static String name(Method m) {
        return m.getDeclaringClass().getSimpleName() + "." + m.getName();
    }

    private static boolean selected(String name, String[] filters) {
        if (filters.length == 0) {
            return true;
        }
        for (String f : filters) {
            if (name.contains(f)) {
                return true;
            }
        }
        return false;
    }
}
