# localkms: build the library and the C examples.
#
#   make quickstart   build the release library and run examples/c/quickstart.c
#   make examples     build and run all three C examples
#   make test         cargo test (also compiles and runs the examples, see
#                     tests/c_examples.rs)
#   make clean        remove build/ (cargo's target/ stays; `cargo clean` for that)
#
# The examples are linked against build/lib/liblocalkms.so.0 (the library's SONAME)
# with build/lib/liblocalkms.so -> liblocalkms.so.0 as the link-time name, and find
# it at run time through an rpath relative to the executable ($ORIGIN/lib).

CC ?= cc
CFLAGS ?= -std=c11 -Wall -Wextra -Werror -O2
CARGO ?= cargo
CARGO_TARGET_DIR ?= target

BUILD = build
LIBDIR = $(BUILD)/lib
RELEASE_DIR = $(CARGO_TARGET_DIR)/release
LDFLAGS_KMS = -L$(LIBDIR) -llocalkms -Wl,-rpath,'$$ORIGIN/lib'

.PHONY: all lib quickstart error_handling auto_rotation examples test clean FORCE

all: examples

# Always ask cargo (it knows when nothing changed), then refresh the copy.
$(LIBDIR)/liblocalkms.so.0: FORCE
	$(CARGO) build --release --target-dir "$(CARGO_TARGET_DIR)"
	mkdir -p $(LIBDIR)
	cp -f $(RELEASE_DIR)/liblocalkms.so $(LIBDIR)/liblocalkms.so.0
	ln -sf liblocalkms.so.0 $(LIBDIR)/liblocalkms.so

lib: $(LIBDIR)/liblocalkms.so.0

$(BUILD)/quickstart: examples/c/quickstart.c include/localkms.h $(LIBDIR)/liblocalkms.so.0
	$(CC) $(CFLAGS) -Iinclude -o $@ examples/c/quickstart.c $(LDFLAGS_KMS)

$(BUILD)/error_handling: examples/c/error_handling.c include/localkms.h $(LIBDIR)/liblocalkms.so.0
	$(CC) $(CFLAGS) -Iinclude -o $@ examples/c/error_handling.c $(LDFLAGS_KMS)

$(BUILD)/auto_rotation: examples/c/auto_rotation.c include/localkms.h $(LIBDIR)/liblocalkms.so.0
	$(CC) $(CFLAGS) -Iinclude -o $@ examples/c/auto_rotation.c $(LDFLAGS_KMS)

quickstart: $(BUILD)/quickstart
	./$(BUILD)/quickstart

error_handling: $(BUILD)/error_handling
	./$(BUILD)/error_handling

auto_rotation: $(BUILD)/auto_rotation
	./$(BUILD)/auto_rotation

examples: quickstart error_handling auto_rotation

test:
	$(CARGO) test

clean:
	rm -rf $(BUILD)

FORCE:
