package localkms_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

// Every algorithm and padding, through AdvanceEncrypt/AdvanceDecrypt and
// Encrypt/Decrypt (and AdvanceDecrypt given the KeyId), with random and given IVs.
func TestRoundTrip(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{Description: "round trip", Algorithms: allAES})
	key128 := createKey(t, c, localkms.CreateKeyInput{KeySpec: "Aliyun_AES_128", Algorithms: allAES})
	key192 := createKey(t, c, localkms.CreateKeyInput{KeySpec: "Aliyun_AES_192", Algorithms: allAES})

	type mode struct {
		name, algorithm, padding string
		ivLen                    int
		aad                      []byte
		wantAlg, wantPad         string
		blobAlg, blobPad         byte
		noPadding                bool
	}
	modes := []mode{
		{name: "GCM default", ivLen: 12, wantAlg: "AES_GCM", blobAlg: 2},
		{name: "GCM", algorithm: "AES_GCM", ivLen: 12, wantAlg: "AES_GCM", blobAlg: 2},
		{name: "GCM Aad", algorithm: "AES_GCM", ivLen: 12, aad: []byte("tenant=42"), wantAlg: "AES_GCM", blobAlg: 2},
		{name: "CBC PKCS7 default", algorithm: "AES_CBC", ivLen: 16, wantAlg: "AES_CBC", wantPad: "PKCS7_PADDING", blobAlg: 1, blobPad: 1},
		{name: "CBC PKCS7", algorithm: "AES_CBC", padding: "PKCS7_PADDING", ivLen: 16, wantAlg: "AES_CBC", wantPad: "PKCS7_PADDING", blobAlg: 1, blobPad: 1},
		{name: "CBC NO_PADDING", algorithm: "AES_CBC", padding: "NO_PADDING", ivLen: 16, wantAlg: "AES_CBC", wantPad: "NO_PADDING", blobAlg: 1, noPadding: true},
		{name: "ECB PKCS7", algorithm: "AES_ECB", padding: "PKCS7_PADDING", wantAlg: "AES_ECB", wantPad: "PKCS7_PADDING", blobAlg: 3, blobPad: 1},
		{name: "ECB NO_PADDING", algorithm: "AES_ECB", padding: "NO_PADDING", wantAlg: "AES_ECB", wantPad: "NO_PADDING", blobAlg: 3, noPadding: true},
	}
	specs := map[string]string{key: "AES_256", key128: "AES_128", key192: "AES_192"}
	for _, m := range modes {
		m := m
		for _, keyID := range []string{key, key128, key192} {
			keyID := keyID
			t.Run(m.name+"/"+specs[keyID], func(tt *testing.T) {
				for _, size := range []int{0, 1, 15, 16, 17, 64, 1000} {
					if m.noPadding && (size%16 != 0 || size == 0) {
						continue
					}
					for _, givenIV := range []bool{false, true} {
						if givenIV && m.ivLen == 0 {
							continue
						}
						// Failures name the case.
						t := contextTB{tt, fmt.Sprintf("%d bytes, given IV %v", size, givenIV)}
						plaintext := randomBytes(t, size)
						var iv []byte
						if givenIV {
							iv = randomBytes(t, m.ivLen)
						}
						in := localkms.EncryptInput{KeyID: keyID, Plaintext: plaintext, Algorithm: m.algorithm, Iv: iv, Aad: m.aad, PaddingMode: m.padding}

						// AdvanceEncrypt: the self-describing blob.
						adv, err := c.AdvanceEncrypt(in)
						if err != nil {
							t.Fatalf("AdvanceEncrypt: %v", err)
						}
						checkEncryptOutput(t, adv, keyID, m.wantAlg, m.wantPad, m.ivLen, iv)
						blob := adv.CiphertextBlob
						if len(blob) < 39+m.ivLen || blob[0] != '$' || blob[1] != m.blobPad || blob[2] != m.blobAlg ||
							string(blob[3:39]) != adv.KeyVersionID || !bytes.Equal(blob[39:39+m.ivLen], adv.Iv) {
							t.Fatalf("blob header % x does not match the response", blob[:min(len(blob), 39+m.ivLen)])
						}
						if got, want := len(blob)-39-m.ivLen, ciphertextLen(m.wantAlg, m.noPadding, size); got != want {
							t.Fatalf("blob ciphertext is %d bytes, want %d", got, want)
						}
						dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: blob, Aad: m.aad})
						if err != nil {
							t.Fatalf("AdvanceDecrypt: %v", err)
						}
						checkDecryptOutput(t, dec, plaintext, keyID, adv.KeyVersionID, m.wantAlg, m.wantPad)

						// Encrypt: the bare ciphertext, decrypted with the parameters.
						enc, err := c.Encrypt(in)
						if err != nil {
							t.Fatalf("Encrypt: %v", err)
						}
						checkEncryptOutput(t, enc, keyID, m.wantAlg, m.wantPad, m.ivLen, iv)
						if got, want := len(enc.CiphertextBlob), ciphertextLen(m.wantAlg, m.noPadding, size); got != want {
							t.Fatalf("Encrypt ciphertext is %d bytes, want %d", got, want)
						}
						if givenIV || m.ivLen == 0 {
							// Same key, IV and plaintext: the same ciphertext.
							if !bytes.Equal(enc.CiphertextBlob, blob[39+m.ivLen:]) {
								t.Fatalf("Encrypt and AdvanceEncrypt disagree with the same IV")
							}
						}
						din := localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyID: keyID, Algorithm: m.algorithm, Iv: enc.Iv, Aad: m.aad, PaddingMode: m.padding}
						dec, err = c.Decrypt(din)
						if err != nil {
							t.Fatalf("Decrypt: %v", err)
						}
						checkDecryptOutput(t, dec, plaintext, keyID, enc.KeyVersionID, m.wantAlg, m.wantPad)
						dec, err = c.AdvanceDecrypt(din)
						if err != nil {
							t.Fatalf("AdvanceDecrypt with KeyId: %v", err)
						}
						checkDecryptOutput(t, dec, plaintext, keyID, enc.KeyVersionID, m.wantAlg, m.wantPad)
						localkms.Wipe(dec.Plaintext)
						if !bytes.Equal(dec.Plaintext, make([]byte, size)) {
							t.Fatalf("Wipe left bytes")
						}
					}
				}
			})
		}
	}

	// A random IV is fresh every time.
	a, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Iv, b.Iv) || bytes.Equal(a.CiphertextBlob, b.CiphertextBlob) || a.RequestID == b.RequestID {
		t.Fatal("two encryptions with random IVs are identical")
	}

	// GCM with Aad: without it, or with another one, the blob does not open.
	withAad, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("bound"), Aad: []byte("A")})
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range [][]byte{nil, []byte("B")} {
		_, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: withAad.CiphertextBlob, Aad: aad})
		expectError(t, err, localkms.StatusInvalidCiphertext, "InvalidCiphertext", 400)
		if !localkms.IsInvalidCiphertext(err) || !localkms.IsBadRequest(err) {
			t.Fatal("IsInvalidCiphertext / IsBadRequest")
		}
	}
	// Pinning the algorithm when decrypting from the blob alone.
	cbc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("cbc"), Algorithm: "AES_CBC"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: cbc.CiphertextBlob, Algorithm: "AES_GCM"})
	expectError(t, err, localkms.StatusInvalidCiphertext, "InvalidCiphertext", 400)
}

// contextTB prefixes every failure with the case it is about.
type contextTB struct {
	testing.TB
	ctx string
}

func (c contextTB) Fatalf(format string, args ...any) {
	c.TB.Helper()
	c.TB.Fatalf(c.ctx+": "+format, args...)
}

func (c contextTB) Fatal(args ...any) {
	c.TB.Helper()
	c.TB.Fatal(append([]any{c.ctx + ":"}, args...)...)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func ciphertextLen(algorithm string, noPadding bool, size int) int {
	switch {
	case algorithm == "AES_GCM":
		return size + 16
	case noPadding:
		return size
	default:
		return (size/16 + 1) * 16
	}
}

func checkEncryptOutput(t testing.TB, out *localkms.EncryptOutput, keyID, alg, pad string, ivLen int, iv []byte) {
	t.Helper()
	if out.KeyID != keyID || !keyVersionIDRE.MatchString(out.KeyVersionID) || !strings.HasPrefix(out.KeyVersionID, keyID+"-") {
		t.Fatalf("KeyID %q / KeyVersionID %q for key %s", out.KeyID, out.KeyVersionID, keyID)
	}
	if out.Algorithm != alg || out.PaddingMode != pad {
		t.Fatalf("Algorithm %q PaddingMode %q, want %q %q", out.Algorithm, out.PaddingMode, alg, pad)
	}
	if len(out.Iv) != ivLen || (iv != nil && !bytes.Equal(out.Iv, iv)) {
		t.Fatalf("Iv %x (want %d bytes, given %x)", out.Iv, ivLen, iv)
	}
	if !uuidRE.MatchString(out.RequestID) {
		t.Fatalf("RequestID %q", out.RequestID)
	}
}

func checkDecryptOutput(t testing.TB, out *localkms.DecryptOutput, plaintext []byte, keyID, version, alg, pad string) {
	t.Helper()
	if !bytes.Equal(out.Plaintext, plaintext) {
		t.Fatalf("plaintext %x, want %x", out.Plaintext, plaintext)
	}
	if out.Plaintext == nil {
		t.Fatalf("Plaintext is nil rather than empty")
	}
	if out.KeyID != keyID || out.KeyVersionID != version || out.Algorithm != alg || out.PaddingMode != pad {
		t.Fatalf("decrypt response %+v, want %s %s %s %q", out, keyID, version, alg, pad)
	}
	if !uuidRE.MatchString(out.RequestID) {
		t.Fatalf("RequestID %q", out.RequestID)
	}
}

// Manual rotation: old blobs keep decrypting with their version, new ones use the
// new primary; Encrypt and GenerateDataKey stay on the initial version.
// RotateKey, CreateKeyVersion and ListKeyVersions through the binding: the IDs
// come back as strings of the right shape and the version list decodes. Which
// version each call uses after a rotation is the Rust suite's
// (tests/service_behaviour.rs: manual_rotation_changes_only_what_advance_encrypt_uses).
func TestRotation(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	old, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := old.KeyVersionID
	v2, err := c.RotateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if !keyVersionIDRE.MatchString(v2) || v2 == v1 || !strings.HasPrefix(v2, key+"-") {
		t.Fatalf("RotateKey returned %q (old %q)", v2, v1)
	}
	newer, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("after")})
	if err != nil {
		t.Fatal(err)
	}
	if newer.KeyVersionID != v2 {
		t.Fatalf("AdvanceEncrypt after rotation used %s, want %s", newer.KeyVersionID, v2)
	}
	v3, err := c.CreateKeyVersion(key)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := c.ListKeyVersions(key)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range versions.KeyVersions {
		ids = append(ids, v.KeyVersionID)
		if v.KeyID != key || v.CreationDate.IsZero() {
			t.Fatalf("version entry %+v", v)
		}
	}
	if strings.Join(ids, ",") != strings.Join([]string{v1, v2, v3}, ",") || versions.TotalCount != 3 {
		t.Fatalf("ListKeyVersions = %v (total %d), want [%s %s %s]", ids, versions.TotalCount, v1, v2, v3)
	}
	if !strings.Contains(versions.JSON, `"KeyVersions"`) || !uuidRE.MatchString(versions.RequestID) {
		t.Fatalf("ListKeyVersions JSON %s", versions.JSON)
	}
	desc, err := c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if desc.KeyMetadata.PrimaryKeyVersion != v3 {
		t.Fatalf("PrimaryKeyVersion %s, want %s", desc.KeyMetadata.PrimaryKeyVersion, v3)
	}
}

func TestDataKeys(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	if err := c.CreateAlias("alias/data-keys", key); err != nil {
		t.Fatal(err)
	}

	for _, n := range []uint32{0, 1, 16, 32, 1024} {
		for _, aad := range [][]byte{nil, []byte("file=report.pdf")} {
			want := int(n)
			if n == 0 {
				want = 32
			}
			adk, err := c.AdvanceGenerateDataKey(localkms.GenerateDataKeyInput{KeyID: "alias/data-keys", NumberOfBytes: n, Aad: aad})
			if err != nil {
				t.Fatalf("AdvanceGenerateDataKey(%d): %v", n, err)
			}
			if len(adk.Plaintext) != want || adk.KeyID != key || adk.Algorithm != "AES_GCM" || len(adk.Iv) != 12 ||
				!keyVersionIDRE.MatchString(adk.KeyVersionID) || !uuidRE.MatchString(adk.RequestID) {
				t.Fatalf("AdvanceGenerateDataKey(%d) = %d bytes, %+v", n, len(adk.Plaintext), adk)
			}
			dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: adk.CiphertextBlob, Aad: aad})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec.Plaintext, adk.Plaintext) {
				t.Fatal("the advance data key blob does not open to the data key")
			}

			dk, err := c.GenerateDataKey(localkms.GenerateDataKeyInput{KeyID: key, NumberOfBytes: n, Aad: aad})
			if err != nil {
				t.Fatal(err)
			}
			if len(dk.Plaintext) != want || len(dk.CiphertextBlob) != want+16 || len(dk.Iv) != 12 {
				t.Fatalf("GenerateDataKey(%d): %d-byte key, %d-byte blob", n, len(dk.Plaintext), len(dk.CiphertextBlob))
			}
			dec, err = c.Decrypt(localkms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, KeyID: key, Algorithm: "AES_GCM", Iv: dk.Iv, Aad: aad})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec.Plaintext, dk.Plaintext) {
				t.Fatal("the data key blob does not open to the data key")
			}
			if bytes.Equal(dk.Plaintext, adk.Plaintext) {
				t.Fatal("two data keys are equal")
			}
			localkms.Wipe(adk.Plaintext)
			localkms.Wipe(dk.Plaintext)
			localkms.Wipe(dec.Plaintext)
		}
	}
	_, err := c.GenerateDataKey(localkms.GenerateDataKeyInput{KeyID: key, NumberOfBytes: 1025})
	expectError(t, err, localkms.StatusInvalidParameter, "InvalidParameter", 400)
}

func TestAliases(t *testing.T) {
	c := newClient(t)
	k1 := createKey(t, c, localkms.CreateKeyInput{Description: "one"})
	k2 := createKey(t, c, localkms.CreateKeyInput{Description: "two"})

	if err := c.CreateAlias("alias/app", k1); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateAlias("alias/app-backup", "alias/app"); err != nil { // an alias naming a key through an alias
		t.Fatal(err)
	}
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("via alias")})
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyID != k1 {
		t.Fatalf("encrypt through alias/app used %s, want %s", enc.KeyID, k1)
	}
	desc, err := c.DescribeKey("alias/app-backup")
	if err != nil {
		t.Fatal(err)
	}
	if desc.KeyMetadata.KeyID != k1 || desc.KeyMetadata.Description != "one" {
		t.Fatalf("DescribeKey(alias/app-backup) = %+v", desc.KeyMetadata)
	}

	err = c.CreateAlias("alias/app", k2)
	expectError(t, err, localkms.StatusAliasAlreadyExists, "AliasAlreadyExists", 400)

	if err := c.UpdateAlias("alias/app", k2); err != nil {
		t.Fatal(err)
	}
	enc2, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("via alias")})
	if err != nil {
		t.Fatal(err)
	}
	if enc2.KeyID != k2 {
		t.Fatalf("after UpdateAlias, alias/app names %s, want %s", enc2.KeyID, k2)
	}
	// The first blob still names k1's version and opens.
	if _, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}

	list, err := c.ListAliases()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range list.Aliases {
		got[a.AliasName] = a.KeyID
	}
	if len(got) != 2 || got["alias/app"] != k2 || got["alias/app-backup"] != k1 || list.TotalCount != 2 {
		t.Fatalf("ListAliases = %+v", list)
	}
	if !strings.Contains(list.JSON, `"AliasName":"alias/app"`) {
		t.Fatalf("ListAliases JSON %s", list.JSON)
	}

	if err := c.DeleteAlias("alias/app"); err != nil {
		t.Fatal(err)
	}
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("x")})
	expectError(t, err, localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	if !localkms.IsNotFound(err) {
		t.Fatal("IsNotFound(AliasNotFound) is false")
	}
	expectError(t, c.DeleteAlias("alias/app"), localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	expectError(t, c.UpdateAlias("alias/app", k1), localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	expectError(t, c.CreateAlias("no-prefix", k1), localkms.StatusInvalidParameter, "InvalidParameter", 400)
	expectError(t, c.CreateAlias("alias/acs-reserved", k1), localkms.StatusInvalidParameter, "InvalidParameter", 400)
	expectError(t, c.CreateAlias("alias/x", missingKeyID), localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)

	list, err = c.ListAliases()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Aliases) != 1 || list.Aliases[0].AliasName != "alias/app-backup" {
		t.Fatalf("ListAliases after delete = %+v", list.Aliases)
	}
}

func TestKeysAndDocuments(t *testing.T) {
	c := newClient(t)
	empty, err := c.ListKeys()
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.KeyIDs) != 0 || empty.TotalCount != 0 {
		t.Fatalf("ListKeys on a new store = %+v", empty)
	}
	before := time.Now().Add(-time.Second)
	k1 := createKey(t, c, localkms.CreateKeyInput{Description: "first"})
	k2 := createKey(t, c, localkms.CreateKeyInput{KeySpec: "Aliyun_AES_128", KeyUsage: "ENCRYPT/DECRYPT", Origin: "Aliyun_KMS"})
	keys, err := c.ListKeys()
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first, by CreationDate (whole seconds) then KeyId: compare as a set.
	if len(keys.KeyIDs) != 2 || !(keys.KeyIDs[0] == k1 && keys.KeyIDs[1] == k2 || keys.KeyIDs[0] == k2 && keys.KeyIDs[1] == k1) || keys.TotalCount != 2 || keys.PageNumber != 1 || !uuidRE.MatchString(keys.RequestID) {
		t.Fatalf("ListKeys = %+v", keys)
	}
	if raw, err := c.ListKeysJSON(); err != nil || !strings.HasPrefix(raw, `{"Keys":{"Key":[{"KeyId":"`+keys.KeyIDs[0]+`"}`) {
		t.Fatalf("ListKeysJSON = %s, %v", raw, err)
	}

	desc, err := c.DescribeKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	m := desc.KeyMetadata
	if m.KeyID != k1 || m.KeyState != "Enabled" || m.KeySpec != "Aliyun_AES_256" || m.KeyUsage != "ENCRYPT/DECRYPT" ||
		m.Origin != "Aliyun_KMS" || m.ProtectionLevel != "SOFTWARE" || m.Description != "first" ||
		!strings.HasPrefix(m.PrimaryKeyVersion, k1+"-") || m.AutomaticRotation != "Disabled" {
		t.Fatalf("KeyMetadata = %+v", m)
	}
	if m.CreationDate.Before(before) || m.CreationDate.After(time.Now().Add(time.Second)) || m.LastRotationDate.IsZero() {
		t.Fatalf("dates %v / %v", m.CreationDate, m.LastRotationDate)
	}
	if !m.NextRotationDate.IsZero() || !m.DeleteDate.IsZero() || m.RotationInterval != "" {
		t.Fatalf("rotation fields on a key without automatic rotation: %+v", m)
	}
	if _, ok := m.RotationPeriod(); ok {
		t.Fatal("RotationPeriod without an interval")
	}
	if !strings.HasPrefix(desc.JSON, `{"KeyMetadata":{`) || desc.RequestID == "" || !strings.Contains(desc.JSON, desc.RequestID) {
		t.Fatalf("DescribeKey JSON %s", desc.JSON)
	}
	raw, err := c.DescribeKeyJSON(k2)
	if err != nil || !strings.Contains(raw, `"KeySpec":"Aliyun_AES_128"`) {
		t.Fatalf("DescribeKeyJSON = %s, %v", raw, err)
	}
	rawVersions, err := c.ListKeyVersionsJSON(k2)
	if err != nil || !strings.Contains(rawVersions, `"KeyVersionId":"`+k2+`-`) {
		t.Fatalf("ListKeyVersionsJSON = %s, %v", rawVersions, err)
	}
	rawAliases, err := c.ListAliasesJSON()
	if err != nil || !strings.Contains(rawAliases, `"Aliases":{"Alias":[]}`) {
		t.Fatalf("ListAliasesJSON = %s, %v", rawAliases, err)
	}

	// Key states through DescribeKey.
	if err := c.DisableKey(k1); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.DescribeKey(k1); d.KeyMetadata.KeyState != "Disabled" {
		t.Fatalf("after DisableKey: %s", d.KeyMetadata.KeyState)
	}
	if err := c.EnableKey(k1); err != nil {
		t.Fatal(err)
	}
	if err := c.EnableKey(k1); err != nil { // an Enabled key stays so
		t.Fatal(err)
	}
	if err := c.ScheduleKeyDeletion(k1, 7); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "PendingDeletion" || d.KeyMetadata.DeleteDate.Sub(d.KeyMetadata.CreationDate) < 7*24*time.Hour-time.Minute {
		t.Fatalf("after ScheduleKeyDeletion: %+v", d.KeyMetadata)
	}
	if err := c.CancelKeyDeletion(k1); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.DescribeKey(k1); d.KeyMetadata.KeyState != "Enabled" || !d.KeyMetadata.DeleteDate.IsZero() {
		t.Fatalf("after CancelKeyDeletion: %+v", d.KeyMetadata)
	}

	// Asymmetric keys are created (real key pairs) but refused by the symmetric operations.
	ec := createKey(t, c, localkms.CreateKeyInput{KeySpec: "EC_P256"})
	if d, _ := c.DescribeKey(ec); d.KeyMetadata.KeySpec != "EC_P256" || d.KeyMetadata.KeyUsage != "SIGN/VERIFY" {
		t.Fatalf("EC key: %+v", d.KeyMetadata)
	}
}

func TestImportKeyMaterial(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "Aliyun_AES_128"})
	d, err := c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "PendingImport" || d.KeyMetadata.Origin != "EXTERNAL" {
		t.Fatalf("EXTERNAL key: %+v", d.KeyMetadata)
	}
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")})
	expectError(t, err, localkms.StatusKeyPendingImport, "Rejected.PendingImport", 409)
	if !localkms.IsKeyState(err) {
		t.Fatal("IsKeyState(PendingImport) is false")
	}

	expectError(t, c.ImportKeyMaterial(key, make([]byte, 32), time.Time{}), localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	expectError(t, c.ImportKeyMaterial(key, nil, time.Time{}), localkms.StatusMissingParameter, "MissingParameter", 400)
	expectError(t, c.ImportKeyMaterial(key, randomBytes(t, 16), time.Now().Add(-time.Hour)), localkms.StatusInvalidParameter, "InvalidParameter", 400)

	material := randomBytes(t, 16)
	if err := c.ImportKeyMaterial(key, material, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "Enabled" || d.KeyMetadata.MaterialExpireTime.Before(time.Now().Add(47*time.Hour)) {
		t.Fatalf("after import: %+v", d.KeyMetadata)
	}
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("decrypt with imported material: %v", err)
	}
	// Other material is refused; the same material is accepted again.
	expectError(t, c.ImportKeyMaterial(key, randomBytes(t, 16), time.Time{}), localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	if err := c.ImportKeyMaterial(key, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// An EXTERNAL key cannot be rotated.
	_, err = c.RotateKey(key)
	expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
	localkms.Wipe(material)
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
