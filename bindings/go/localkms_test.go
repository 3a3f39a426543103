// The Go binding's tests keep to what is the binding's own: marshalling of
// inputs and documents, ownership (copies, Wipe, frees), errors as *Error,
// Close and the finalizer, the clock callback, the C ABI's int flags, goroutines
// through cgo, and blobs exchanged with examples/interop/interop.c. What the
// library does with versions, rotation schedules, expiry and deletion is tested
// once, in the Rust suite (tests/service_behaviour.rs, tests/threads.rs); each
// area has at most one smoke test here.

package localkms_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	localkms "localkms.dev/localkms/bindings/go"
)

var (
	uuidRE         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	keyIDRE        = regexp.MustCompile(`^key-[a-z0-9]{21}$`)
	keyVersionIDRE = regexp.MustCompile(`^key-[a-z0-9]{21}-[a-z0-9]{10}$`)
)

// A KeyId of the right shape that no store holds.
const missingKeyID = "key-aaaaaaaaaaaaaaaaaaaaa"

// The algorithms a key must be created with for the tests that use the block
// modes: a key created without Algorithms permits AES_GCM only.
var allAES = []string{"AES_GCM", "AES_CBC", "AES_ECB"}

const day = 24 * 60 * 60

func newClient(t *testing.T) *localkms.Client {
	t.Helper()
	c, err := localkms.OpenInMemory()
	if err != nil {
		t.Fatalf("OpenInMemory: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func createKey(t *testing.T, c *localkms.Client, in localkms.CreateKeyInput) string {
	t.Helper()
	id, err := c.CreateKey(in)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	if !keyIDRE.MatchString(id) {
		t.Fatalf("CreateKey returned %q, not a KeyId", id)
	}
	return id
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// expectError checks that err is an *Error (through errors.As, also when
// wrapped) with the given status, code and HTTP status, a message and a RequestId.
func expectError(t *testing.T, err error, status localkms.Status, code string, httpStatus int) *localkms.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s, got success", code)
	}
	wrapped := fmt.Errorf("context: %w", err)
	var kerr *localkms.Error
	if !errors.As(wrapped, &kerr) {
		t.Fatalf("expected *localkms.Error, got %T: %v", err, err)
	}
	if kerr.Status != status || kerr.Code != code || kerr.HTTPStatus != httpStatus {
		t.Fatalf("expected %d %s (HTTP %d), got %d %s (HTTP %d): %s",
			status, code, httpStatus, kerr.Status, kerr.Code, kerr.HTTPStatus, kerr.Message)
	}
	if kerr.Message == "" {
		t.Errorf("%s: empty message", code)
	}
	if !uuidRE.MatchString(kerr.RequestID) {
		t.Errorf("%s: RequestID %q is not a UUID v4", code, kerr.RequestID)
	}
	if !errors.Is(wrapped, &localkms.Error{Status: status}) {
		t.Errorf("errors.Is(err, &Error{Status: %d}) is false", status)
	}
	if localkms.StatusOf(wrapped) != status {
		t.Errorf("StatusOf = %v, want %v", localkms.StatusOf(wrapped), status)
	}
	if !strings.Contains(err.Error(), code) {
		t.Errorf("Error() %q does not name %s", err.Error(), code)
	}
	return kerr
}

func TestVersion(t *testing.T) {
	v := localkms.Version()
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(v) {
		t.Fatalf("Version() = %q", v)
	}
	t.Logf("liblocalkms %s", v)
}

// The constants come from the header; check them against the documented table,
// and against kms_status_code / kms_status_http_status.
func TestStatusConstants(t *testing.T) {
	table := []struct {
		status localkms.Status
		number uint32
		code   string
		http   int
	}{
		{localkms.StatusOK, 0, "OK", 200},
		{localkms.StatusInvalidParameter, 100, "InvalidParameter", 400},
		{localkms.StatusMissingParameter, 101, "MissingParameter", 400},
		{localkms.StatusUnsupportedOperation, 102, "Rejected.UnsupportedOperation", 400},
		{localkms.StatusAliasAlreadyExists, 103, "AliasAlreadyExists", 400},
		{localkms.StatusInvalidKeyMaterial, 104, "InvalidKeyMaterial", 400},
		{localkms.StatusInvalidCiphertext, 105, "InvalidCiphertext", 400},
		{localkms.StatusKeyNotFound, 200, "Forbidden.KeyNotFound", 404},
		{localkms.StatusAliasNotFound, 201, "Forbidden.AliasNotFound", 404},
		{localkms.StatusOnlySymmetricKeySupported, 202, "Forbidden.OnlySymmetricKeySupported", 404},
		{localkms.StatusKeyDisabled, 300, "Rejected.Disabled", 409},
		{localkms.StatusKeyPendingDeletion, 301, "Rejected.PendingDeletion", 409},
		{localkms.StatusKeyPendingImport, 302, "Rejected.PendingImport", 409},
		{localkms.StatusKeyStoreIO, 400, "KeyStore.IOError", 500},
		{localkms.StatusKeyStoreCorrupt, 401, "KeyStore.Corrupted", 500},
		{localkms.StatusKeyStoreAccessDenied, 402, "KeyStore.AccessDenied", 403},
		{localkms.StatusInternalFailure, 500, "InternalFailure", 500},
	}
	for _, row := range table {
		if uint32(row.status) != row.number {
			t.Errorf("%s = %d, want %d", row.code, uint32(row.status), row.number)
		}
		if got := row.status.Code(); got != row.code {
			t.Errorf("Status(%d).Code() = %q, want %q", row.number, got, row.code)
		}
		if got := row.status.HTTPStatus(); got != row.http {
			t.Errorf("Status(%d).HTTPStatus() = %d, want %d", row.number, got, row.http)
		}
	}
	if got := localkms.Status(999).Code(); got != "Unknown" {
		t.Errorf("Status(999).Code() = %q", got)
	}
	if got := localkms.Status(999).HTTPStatus(); got != 0 {
		t.Errorf("Status(999).HTTPStatus() = %d", got)
	}
	if got := localkms.StatusKeyNotFound.String(); got != "Forbidden.KeyNotFound (200)" {
		t.Errorf("String() = %q", got)
	}
}

// The two int flags of the C ABI (kms_open_options.create_if_missing and
// kms_update_rotation_policy's enable_automatic_rotation) with both values, on a
// file-backed store that is reopened after every change: a flag the library read
// wrongly, or a raw flag value it persisted, shows up as the wrong policy, a
// store that is not created, or a store that no longer opens (KeyStore.Corrupted).
func TestFlagsRoundTripThroughTheStore(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "flags.kms")
	master := randomBytes(t, 32)
	open := func(t *testing.T, create bool) *localkms.Client {
		t.Helper()
		c, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKey: master, CreateIfMissing: create})
		if err != nil {
			t.Fatalf("Open(CreateIfMissing: %v): %v", create, err)
		}
		return c
	}
	describe := func(t *testing.T, c *localkms.Client, key string) localkms.KeyMetadata {
		t.Helper()
		d, err := c.DescribeKey(key)
		if err != nil {
			t.Fatalf("DescribeKey: %v", err)
		}
		return d.KeyMetadata
	}

	// create_if_missing = 0: a missing file is KeyStore.IOError, and nothing is created.
	_, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKey: master, CreateIfMissing: false})
	expectError(t, err, localkms.StatusKeyStoreIO, "KeyStore.IOError", 500)
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("CreateIfMissing false created the store: %v", err)
	}

	// create_if_missing = 1: the file is created.
	c := open(t, true)
	if _, err := os.Stat(store); err != nil {
		t.Fatalf("CreateIfMissing true did not create the store: %v", err)
	}
	key := createKey(t, c, localkms.CreateKeyInput{Description: "flags"})
	if m := describe(t, c, key); m.AutomaticRotation != "Disabled" {
		t.Fatalf("a new key has AutomaticRotation %q", m.AutomaticRotation)
	}

	// enable_automatic_rotation = 1.
	if err := c.UpdateRotationPolicy(key, true, "30d"); err != nil {
		t.Fatal(err)
	}
	m := describe(t, c, key)
	if m.AutomaticRotation != "Enabled" || m.RotationInterval != "2592000s" || m.NextRotationDate.IsZero() {
		t.Fatalf("after enabling: %+v", m)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened (create_if_missing = 0 on an existing file): the policy persisted.
	c = open(t, false)
	m = describe(t, c, key)
	if m.AutomaticRotation != "Enabled" || m.RotationInterval != "2592000s" || m.Description != "flags" {
		t.Fatalf("after enabling and reopening: %+v", m)
	}

	// enable_automatic_rotation = 0.
	if err := c.UpdateRotationPolicy(key, false, ""); err != nil {
		t.Fatal(err)
	}
	if m := describe(t, c, key); m.AutomaticRotation != "Disabled" || !m.NextRotationDate.IsZero() {
		t.Fatalf("after disabling: %+v", m)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened with create_if_missing = 1 on an existing file: opens it as it is.
	c = open(t, true)
	if m := describe(t, c, key); m.AutomaticRotation != "Disabled" {
		t.Fatalf("after disabling and reopening: %+v", m)
	}
	// Enabled again without an interval: the persisted 30 days are kept.
	if err := c.UpdateRotationPolicy(key, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open(t, false)
	defer c.Close()
	if m := describe(t, c, key); m.AutomaticRotation != "Enabled" || m.RotationInterval != "2592000s" {
		t.Fatalf("after re-enabling and reopening: %+v", m)
	}
	if keys, err := c.ListKeys(); err != nil || len(keys.KeyIDs) != 1 || keys.KeyIDs[0] != key {
		t.Fatalf("ListKeys after reopening: %+v, %v", keys, err)
	}
}
