package localkms_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"localkms.example/localkms"
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
func TestRotation(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	old, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := old.KeyVersionID
	plainOld, err := c.Encrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("plain before")})
	if err != nil {
		t.Fatal(err)
	}
	if plainOld.KeyVersionID != v1 {
		t.Fatalf("Encrypt used %s, AdvanceEncrypt %s before any rotation", plainOld.KeyVersionID, v1)
	}

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
	for _, tc := range []struct {
		blob    []byte
		text    string
		version string
	}{{old.CiphertextBlob, "before", v1}, {newer.CiphertextBlob, "after", v2}} {
		dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: tc.blob})
		if err != nil {
			t.Fatal(err)
		}
		if string(dec.Plaintext) != tc.text || dec.KeyVersionID != tc.version {
			t.Fatalf("decrypted %q with %s, want %q with %s", dec.Plaintext, dec.KeyVersionID, tc.text, tc.version)
		}
	}

	// Encrypt stays on the initial version; its old and new output both decrypt.
	plainNew, err := c.Encrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("plain after")})
	if err != nil {
		t.Fatal(err)
	}
	if plainNew.KeyVersionID != v1 {
		t.Fatalf("Encrypt after rotation used %s, want the initial %s", plainNew.KeyVersionID, v1)
	}
	for _, enc := range []*localkms.EncryptOutput{plainOld, plainNew} {
		dec, err := c.Decrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyID: key, Iv: enc.Iv})
		if err != nil {
			t.Fatal(err)
		}
		if dec.KeyVersionID != v1 {
			t.Fatalf("Decrypt used %s, want %s", dec.KeyVersionID, v1)
		}
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

	// Data keys: Advance on the primary version, plain on the initial one.
	adk, err := c.AdvanceGenerateDataKey(localkms.GenerateDataKeyInput{KeyID: key})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := c.GenerateDataKey(localkms.GenerateDataKeyInput{KeyID: key})
	if err != nil {
		t.Fatal(err)
	}
	if adk.KeyVersionID != v3 || dk.KeyVersionID != v1 {
		t.Fatalf("data keys made with %s / %s, want %s / %s", adk.KeyVersionID, dk.KeyVersionID, v3, v1)
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

// Every error class, with its status, code and HTTP status, through errors.As.
func TestErrors(t *testing.T) {
	c := newClient(t)
	// Every algorithm, so that the block-mode cases below reach the checks they
	// are about (a default key refuses AES_CBC / AES_ECB outright).
	key := createKey(t, c, localkms.CreateKeyInput{Algorithms: allAES})
	good, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("good")})
	if err != nil {
		t.Fatal(err)
	}
	encrypt := func(in localkms.EncryptInput) error {
		_, err := c.AdvanceEncrypt(in)
		return err
	}
	decrypt := func(blob []byte) error {
		_, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: blob})
		return err
	}

	t.Run("InvalidParameter", func(t *testing.T) {
		for name, err := range map[string]error{
			"algorithm":      encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_XTS"}),
			"padding":        encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_CBC", PaddingMode: "ZERO_PADDING"}),
			"GCM IV length":  encrypt(localkms.EncryptInput{KeyID: key, Iv: make([]byte, 16)}),
			"CBC IV length":  encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_CBC", Iv: make([]byte, 12)}),
			"ECB with IV":    encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_ECB", Iv: make([]byte, 16)}),
			"NO_PADDING len": encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_CBC", PaddingMode: "NO_PADDING", Plaintext: []byte("17 bytes of text!")}),
			"Aad with CBC":   encrypt(localkms.EncryptInput{KeyID: key, Algorithm: "AES_CBC", Aad: []byte("aad")}),
			"Aad too long":   encrypt(localkms.EncryptInput{KeyID: key, Aad: make([]byte, 8193)}),
			"interval":       c.UpdateRotationPolicy(key, true, "1d"),
			"deletion days":  c.ScheduleKeyDeletion(key, 3),
		} {
			t.Run(name, func(t *testing.T) {
				expectError(t, err, localkms.StatusInvalidParameter, "InvalidParameter", 400)
			})
		}
		// A Go string with a NUL byte cannot become a C string: the wrapper
		// refuses it itself (no RequestId: the library was not called).
		err := encrypt(localkms.EncryptInput{KeyID: key + "\x00tail"})
		var kerr *localkms.Error
		if !errors.As(err, &kerr) || kerr.Status != localkms.StatusInvalidParameter || kerr.Code != "InvalidParameter" ||
			kerr.HTTPStatus != 400 || kerr.RequestID != "" || !strings.Contains(kerr.Message, "KeyId") {
			t.Fatalf("NUL in KeyId: %#v", err)
		}
	})

	t.Run("MissingParameter", func(t *testing.T) {
		_, rotErr := c.RotateKey("")
		_, decErr := c.Decrypt(localkms.DecryptInput{CiphertextBlob: good.CiphertextBlob})
		_, descErr := c.DescribeKey("")
		_, dkErr := c.GenerateDataKey(localkms.GenerateDataKeyInput{})
		for name, err := range map[string]error{
			"encrypt KeyId":  encrypt(localkms.EncryptInput{Plaintext: []byte("x")}),
			"decrypt KeyId":  decErr,
			"rotate KeyId":   rotErr,
			"describe KeyId": descErr,
			"data key KeyId": dkErr,
			"alias name":     c.CreateAlias("", key),
			"alias key":      c.CreateAlias("alias/x", ""),
			"first policy":   c.UpdateRotationPolicy(key, true, ""),
		} {
			t.Run(name, func(t *testing.T) {
				expectError(t, err, localkms.StatusMissingParameter, "MissingParameter", 400)
			})
		}
	})

	t.Run("KeyNotFound", func(t *testing.T) {
		kerr := expectError(t, encrypt(localkms.EncryptInput{KeyID: missingKeyID}), localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)
		if !strings.Contains(kerr.Message, missingKeyID) {
			t.Errorf("message %q does not name the key", kerr.Message)
		}
		if !localkms.IsNotFound(kerr) {
			t.Error("IsNotFound is false")
		}
		expectError(t, c.DisableKey(missingKeyID), localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)
		_, err := c.ListKeyVersions(missingKeyID)
		expectError(t, err, localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)
		// A blob naming a version this store does not hold.
		other := newClient(t)
		expectError(t, func() error {
			_, err := other.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: good.CiphertextBlob})
			return err
		}(), localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)
	})

	t.Run("AliasNotFound", func(t *testing.T) {
		expectError(t, encrypt(localkms.EncryptInput{KeyID: "alias/missing"}), localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	})

	t.Run("OnlySymmetricKeySupported", func(t *testing.T) {
		ec := createKey(t, c, localkms.CreateKeyInput{KeySpec: "EC_P256"})
		kerr := expectError(t, encrypt(localkms.EncryptInput{KeyID: ec, Plaintext: []byte("x")}),
			localkms.StatusOnlySymmetricKeySupported, "Forbidden.OnlySymmetricKeySupported", 404)
		want := "The key " + ec + " is not a symmetric key. The API only supports symmetric keys."
		if !strings.Contains(kerr.Message, want) {
			t.Errorf("message %q, want %q", kerr.Message, want)
		}
		_, err := c.GenerateDataKey(localkms.GenerateDataKeyInput{KeyID: ec})
		expectError(t, err, localkms.StatusOnlySymmetricKeySupported, "Forbidden.OnlySymmetricKeySupported", 404)
	})

	t.Run("Disabled", func(t *testing.T) {
		k := createKey(t, c, localkms.CreateKeyInput{})
		blob, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: k, Plaintext: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DisableKey(k); err != nil {
			t.Fatal(err)
		}
		expectError(t, encrypt(localkms.EncryptInput{KeyID: k}), localkms.StatusKeyDisabled, "Rejected.Disabled", 409)
		expectError(t, decrypt(blob.CiphertextBlob), localkms.StatusKeyDisabled, "Rejected.Disabled", 409)
		_, err = c.RotateKey(k)
		expectError(t, err, localkms.StatusKeyDisabled, "Rejected.Disabled", 409)
		if !localkms.IsKeyState(err) {
			t.Error("IsKeyState is false")
		}
		if err := c.EnableKey(k); err != nil {
			t.Fatal(err)
		}
		if err := decrypt(blob.CiphertextBlob); err != nil {
			t.Fatalf("decrypt after EnableKey: %v", err)
		}
	})

	t.Run("PendingDeletion", func(t *testing.T) {
		k := createKey(t, c, localkms.CreateKeyInput{})
		if err := c.ScheduleKeyDeletion(k, 7); err != nil {
			t.Fatal(err)
		}
		expectError(t, encrypt(localkms.EncryptInput{KeyID: k}), localkms.StatusKeyPendingDeletion, "Rejected.PendingDeletion", 409)
		expectError(t, c.EnableKey(k), localkms.StatusKeyPendingDeletion, "Rejected.PendingDeletion", 409)
		if err := c.CancelKeyDeletion(k); err != nil {
			t.Fatal(err)
		}
		if err := encrypt(localkms.EncryptInput{KeyID: k}); err != nil {
			t.Fatalf("encrypt after CancelKeyDeletion: %v", err)
		}
	})

	t.Run("PendingImport", func(t *testing.T) {
		k := createKey(t, c, localkms.CreateKeyInput{Origin: "EXTERNAL"})
		expectError(t, encrypt(localkms.EncryptInput{KeyID: k}), localkms.StatusKeyPendingImport, "Rejected.PendingImport", 409)
		_, err := c.AdvanceGenerateDataKey(localkms.GenerateDataKeyInput{KeyID: k})
		expectError(t, err, localkms.StatusKeyPendingImport, "Rejected.PendingImport", 409)
	})

	t.Run("InvalidCiphertext", func(t *testing.T) {
		blob := good.CiphertextBlob
		flipped := append([]byte(nil), blob...)
		flipped[len(flipped)-1] ^= 1
		flippedIV := append([]byte(nil), blob...)
		flippedIV[39] ^= 1
		for name, b := range map[string][]byte{
			"tag":       flipped,
			"iv":        flippedIV,
			"truncated": blob[:len(blob)-1],
			"trailing":  append(append([]byte(nil), blob...), 0),
			"header":    blob[:20],
			"garbage":   []byte("not a blob at all, not even close to one"),
		} {
			t.Run(name, func(t *testing.T) {
				expectError(t, decrypt(b), localkms.StatusInvalidCiphertext, "InvalidCiphertext", 400)
			})
		}
		// Bare ciphertext with the wrong IV.
		enc, err := c.Encrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("plain"), Algorithm: "AES_CBC"})
		if err != nil {
			t.Fatal(err)
		}
		wrongIV := append([]byte(nil), enc.Iv...)
		wrongIV[0] ^= 0xff
		_, err = c.Decrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyID: key, Algorithm: "AES_CBC", Iv: wrongIV, PaddingMode: "PKCS7_PADDING"})
		if err != nil {
			// A changed CBC IV only changes the first block: padding usually
			// still checks out, so success is possible; failure must be this code.
			expectError(t, err, localkms.StatusInvalidCiphertext, "InvalidCiphertext", 400)
		}
	})

	t.Run("UnsupportedOperation", func(t *testing.T) {
		k := createKey(t, c, localkms.CreateKeyInput{})
		expectError(t, c.CancelKeyDeletion(k), localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		_, err := c.CreateKey(localkms.CreateKeyInput{KeySpec: "EC_SM2"})
		expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		// A key created without Algorithms permits AES_GCM only: a block mode is
		// Rejected.UnsupportedOperation on every path, and the message says what
		// the key permits.
		_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: k, Plaintext: []byte("x"), Algorithm: "AES_CBC"})
		kerr := expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		if !strings.Contains(kerr.Message, "AES_GCM") || !strings.Contains(kerr.Message, k) {
			t.Errorf("message %q names neither the permitted AES_GCM nor the key", kerr.Message)
		}
		if !localkms.IsBadRequest(err) || localkms.IsInvalidCiphertext(err) {
			t.Error("IsBadRequest / IsInvalidCiphertext of Rejected.UnsupportedOperation")
		}
		_, err = c.Encrypt(localkms.EncryptInput{KeyID: k, Plaintext: []byte("x"), Algorithm: "AES_ECB"})
		expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		_, err = c.Decrypt(localkms.DecryptInput{CiphertextBlob: make([]byte, 16), KeyID: k, Algorithm: "AES_CBC", Iv: make([]byte, 16)})
		expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		ext := createKey(t, c, localkms.CreateKeyInput{Origin: "EXTERNAL"})
		expectError(t, c.UpdateRotationPolicy(ext, true, "7d"), localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
		expectError(t, c.ImportKeyMaterial(k, randomBytes(t, 32), time.Time{}), localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
	})

	t.Run("AliasAlreadyExists", func(t *testing.T) {
		if err := c.CreateAlias("alias/taken", key); err != nil {
			t.Fatal(err)
		}
		expectError(t, c.CreateAlias("alias/taken", key), localkms.StatusAliasAlreadyExists, "AliasAlreadyExists", 400)
	})
}

func writeMasterKey(t *testing.T, path string, mode os.FileMode) []byte {
	t.Helper()
	key := randomBytes(t, 32)
	if err := os.WriteFile(path, key, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return key
}

// checkSQLiteStore checks the files of a closed store at path: an SQLite
// database, no lock file beside it, and its -wal and -shm, where they are left,
// mode 0600 like the database.
func checkSQLiteStore(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
		t.Fatalf("%s is not an SQLite database: %q", path, data[:min(len(data), 16)])
	}
	if _, err := os.Lstat(path + ".lock"); !os.IsNotExist(err) {
		t.Fatalf("%s.lock: %v", path, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if st, err := os.Lstat(path + suffix); err == nil && (!st.Mode().IsRegular() || st.Mode().Perm() != 0o600) {
			t.Fatalf("%s%s: mode %v", path, suffix, st.Mode())
		} else if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// The key store's errors: KeyStore.AccessDenied (wrong master key, unsafe
// master-key file), KeyStore.Corrupted, KeyStore.IOError.
func TestKeyStoreErrors(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "keys.kms")
	mkFile := filepath.Join(dir, "master.key")
	writeMasterKey(t, mkFile, 0o600)

	c, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKeyFile: mkFile, CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	key := createKey(t, c, localkms.CreateKeyInput{Description: "persisted"})
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("on disk")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(store); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("store file: %v, %v", st, err)
	}
	checkSQLiteStore(t, store)

	// Reopened, the key is still there.
	again, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKeyFile: mkFile})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := again.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "on disk" {
		t.Fatalf("decrypt after reopening: %v", err)
	}
	again.Close()

	t.Run("AccessDenied wrong master key", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKey: randomBytes(t, 32)})
		expectError(t, err, localkms.StatusKeyStoreAccessDenied, "KeyStore.AccessDenied", 403)
	})
	t.Run("AccessDenied readable master-key file", func(t *testing.T) {
		loose := filepath.Join(dir, "loose.key")
		writeMasterKey(t, loose, 0o644)
		_, err := localkms.Open(localkms.Options{KeystorePath: filepath.Join(dir, "other.kms"), MasterKeyFile: loose, CreateIfMissing: true})
		expectError(t, err, localkms.StatusKeyStoreAccessDenied, "KeyStore.AccessDenied", 403)
	})
	t.Run("Corrupted", func(t *testing.T) {
		junk := filepath.Join(dir, "junk.kms")
		if err := os.WriteFile(junk, bytes.Repeat([]byte("not a key store "), 10), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := localkms.Open(localkms.Options{KeystorePath: junk, MasterKeyFile: mkFile})
		expectError(t, err, localkms.StatusKeyStoreCorrupt, "KeyStore.Corrupted", 500)
	})
	t.Run("Corrupted store", func(t *testing.T) {
		// A real store (a copy) with random bytes written over the whole file.
		st, err := os.Stat(store)
		if err != nil {
			t.Fatal(err)
		}
		damaged := filepath.Join(dir, "damaged.kms")
		if err := os.WriteFile(damaged, randomBytes(t, int(st.Size())), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = localkms.Open(localkms.Options{KeystorePath: damaged, MasterKeyFile: mkFile})
		expectError(t, err, localkms.StatusKeyStoreCorrupt, "KeyStore.Corrupted", 500)
	})
	t.Run("IOError", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystorePath: filepath.Join(dir, "missing.kms"), MasterKeyFile: mkFile})
		expectError(t, err, localkms.StatusKeyStoreIO, "KeyStore.IOError", 500)
	})
	t.Run("InvalidParameter master key length", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKey: make([]byte, 31)})
		expectError(t, err, localkms.StatusInvalidParameter, "InvalidParameter", 400)
	})
	t.Run("MissingParameter master key", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystorePath: store})
		expectError(t, err, localkms.StatusMissingParameter, "MissingParameter", 400)
	})
	t.Run("master key given as bytes", func(t *testing.T) {
		raw, err := os.ReadFile(mkFile)
		if err != nil {
			t.Fatal(err)
		}
		c, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKey: raw})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		keys, err := c.ListKeys()
		if err != nil || len(keys.KeyIDs) != 1 || keys.KeyIDs[0] != key {
			t.Fatalf("ListKeys = %+v, %v", keys, err)
		}
		localkms.Wipe(raw)
	})
}

func TestClose(t *testing.T) {
	c, err := localkms.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	key := createKey(t, c, localkms.CreateKeyInput{})
	if err := c.SetClock(func() int64 { return time.Now().Unix() }); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key})
	if !errors.Is(err, localkms.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	var kerr *localkms.Error
	if errors.As(err, &kerr) {
		t.Fatal("ErrClosed is an *Error")
	}
	if err := c.SetClock(func() int64 { return 0 }); !errors.Is(err, localkms.ErrClosed) {
		t.Fatalf("SetClock after Close: %v", err)
	}
	if _, err := c.ListKeys(); !errors.Is(err, localkms.ErrClosed) {
		t.Fatalf("ListKeys after Close: %v", err)
	}
}

// A Client dropped without Close is closed by its finalizer (a safety net: Close
// is the contract). This only checks that collecting clients, clock and all, is
// harmless while other clients keep working.
func TestFinalizer(t *testing.T) {
	keep := newClient(t)
	key := createKey(t, keep, localkms.CreateKeyInput{})
	for i := 0; i < 20; i++ {
		c, err := localkms.OpenInMemory()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetClock(func() int64 { return time.Now().Unix() }); err != nil {
			t.Fatal(err)
		}
		createKey(t, c, localkms.CreateKeyInput{})
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := keep.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("still here")}); err != nil {
		t.Fatal(err)
	}
}

// SetClock drives automatic rotation: the key gets its new version when it is
// used after NextRotationDate.
func TestSetClockAutomaticRotation(t *testing.T) {
	c := newClient(t)
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC).Unix()
	var now, calls atomic.Int64
	now.Store(start)
	if err := c.SetClock(func() int64 { calls.Add(1); return now.Load() }); err != nil {
		t.Fatal(err)
	}
	key := createKey(t, c, localkms.CreateKeyInput{})
	if calls.Load() == 0 {
		t.Fatal("the clock was not called")
	}
	if err := c.UpdateRotationPolicy(key, true, "7d"); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	m := d.KeyMetadata
	period, ok := m.RotationPeriod()
	if m.CreationDate.Unix() != start || m.AutomaticRotation != "Enabled" || m.RotationInterval != "604800s" ||
		!ok || period != 7*24*time.Hour || m.NextRotationDate.Unix() != start+7*day {
		t.Fatalf("after UpdateRotationPolicy: %+v", m)
	}
	v1 := m.PrimaryKeyVersion

	seal := func(text string) *localkms.EncryptOutput {
		t.Helper()
		out, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte(text)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := seal("day 0")
	if first.KeyVersionID != v1 {
		t.Fatalf("first encryption used %s, want %s", first.KeyVersionID, v1)
	}
	now.Store(start + 6*day)
	if got := seal("day 6").KeyVersionID; got != v1 {
		t.Fatalf("rotated before the interval passed: %s", got)
	}
	now.Store(start + 8*day)
	second := seal("day 8")
	if second.KeyVersionID == v1 {
		t.Fatal("no automatic rotation after 8 days")
	}
	d, err = c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	m = d.KeyMetadata
	if m.PrimaryKeyVersion != second.KeyVersionID || m.LastRotationDate.Unix() != start+7*day || m.NextRotationDate.Unix() != start+14*day {
		t.Fatalf("after automatic rotation: %+v", m)
	}
	// The old blob still opens with its version; Encrypt stays on the initial one.
	dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: first.CiphertextBlob})
	if err != nil || dec.KeyVersionID != v1 || string(dec.Plaintext) != "day 0" {
		t.Fatalf("old blob: %+v, %v", dec, err)
	}
	if enc, err := c.Encrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")}); err != nil || enc.KeyVersionID != v1 {
		t.Fatalf("Encrypt after automatic rotation: %+v, %v", enc, err)
	}

	// Missing several dates makes one new version; the schedule stays fixed.
	now.Store(start + 40*day)
	third := seal("day 40")
	versions, err := c.ListKeyVersions(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions.KeyVersions) != 3 || third.KeyVersionID != versions.KeyVersions[2].KeyVersionID {
		t.Fatalf("after 40 days: %+v", versions.KeyVersions)
	}
	if d, _ := c.DescribeKey(key); d.KeyMetadata.LastRotationDate.Unix() != start+35*day {
		t.Fatalf("LastRotationDate %v, want day 35", d.KeyMetadata.LastRotationDate)
	}

	// Turning the policy off stops it.
	if err := c.UpdateRotationPolicy(key, false, ""); err != nil {
		t.Fatal(err)
	}
	now.Store(start + 400*day)
	if got := seal("day 400").KeyVersionID; got != third.KeyVersionID {
		t.Fatalf("rotated with the policy off: %s", got)
	}

	// A clock that panics: the call uses the system clock instead of crashing.
	if err := c.SetClock(func() int64 { panic("broken clock") }); err != nil {
		t.Fatal(err)
	}
	k2 := createKey(t, c, localkms.CreateKeyInput{})
	if d, _ := c.DescribeKey(k2); time.Since(d.KeyMetadata.CreationDate) > time.Minute {
		t.Fatalf("with a panicking clock, CreationDate %v", d.KeyMetadata.CreationDate)
	}

	// nil restores the system clock: the function is no longer called.
	if err := c.SetClock(nil); err != nil {
		t.Fatal(err)
	}
	before := calls.Load()
	k3 := createKey(t, c, localkms.CreateKeyInput{})
	d, err = c.DescribeKey(k3)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != before || time.Since(d.KeyMetadata.CreationDate) > time.Minute {
		t.Fatalf("after SetClock(nil): %d more calls, CreationDate %v", calls.Load()-before, d.KeyMetadata.CreationDate)
	}
	// And a clock can be set again.
	now.Store(start)
	if err := c.SetClock(func() int64 { calls.Add(1); return now.Load() }); err != nil {
		t.Fatal(err)
	}
	k4 := createKey(t, c, localkms.CreateKeyInput{})
	if d, _ := c.DescribeKey(k4); d.KeyMetadata.CreationDate.Unix() != start {
		t.Fatalf("second clock not used: %v", d.KeyMetadata.CreationDate)
	}
}

// One client, many goroutines: 16 × 200 AdvanceEncrypt/AdvanceDecrypt while
// another goroutine rotates the key, reads its documents and swaps the clock. Every blob decrypts
// afterwards with the version that made it.
func TestConcurrentUse(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	if err := c.CreateAlias("alias/concurrent", key); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 16, 200

	type sealed struct {
		plaintext []byte
		out       *localkms.EncryptOutput
	}
	results := make([][]sealed, workers)
	firstRotation := make(chan struct{})
	done := make(chan struct{})
	var rotations atomic.Int64

	var rotator sync.WaitGroup
	rotator.Add(1)
	rotErr := make(chan error, 1)
	go func() {
		defer rotator.Done()
		for i := 0; ; i++ {
			if _, err := c.RotateKey(key); err != nil {
				rotErr <- err
				return
			}
			if rotations.Add(1) == 1 {
				close(firstRotation)
			}
			if _, err := c.ListKeyVersions(key); err != nil {
				rotErr <- err
				return
			}
			// Swap the clock while calls are running: the Go callback and the
			// system clock alternate (both tell the real time).
			var clock func() int64
			if i%2 == 0 {
				clock = func() int64 { return time.Now().Unix() }
			}
			if err := c.SetClock(clock); err != nil {
				rotErr <- err
				return
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			keyID := key
			if w%2 == 1 {
				keyID = "alias/concurrent"
			}
			for i := 0; i < rounds; i++ {
				if i == rounds/2 {
					<-firstRotation // make sure some blobs are made after a rotation
				}
				pt := []byte(fmt.Sprintf("worker %d round %d", w, i))
				var aad []byte
				if i%3 == 0 {
					aad = []byte(fmt.Sprintf("aad %d", w))
				}
				out, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: pt, Aad: aad})
				if err != nil {
					errs <- fmt.Errorf("worker %d encrypt %d: %w", w, i, err)
					return
				}
				dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: out.CiphertextBlob, Aad: aad})
				if err != nil {
					errs <- fmt.Errorf("worker %d decrypt %d: %w", w, i, err)
					return
				}
				if !bytes.Equal(dec.Plaintext, pt) || dec.KeyVersionID != out.KeyVersionID {
					errs <- fmt.Errorf("worker %d round %d: got %q with %s", w, i, dec.Plaintext, dec.KeyVersionID)
					return
				}
				if aad == nil {
					results[w] = append(results[w], sealed{pt, out})
				}
			}
		}(w)
	}
	wg.Wait()
	close(done)
	rotator.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-rotErr:
		t.Fatalf("rotator: %v", err)
	default:
	}
	if t.Failed() {
		t.FailNow()
	}

	versions := map[string]int{}
	total := 0
	for _, rs := range results {
		for _, r := range rs {
			dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: r.out.CiphertextBlob})
			if err != nil {
				t.Fatalf("decrypt afterwards: %v", err)
			}
			if !bytes.Equal(dec.Plaintext, r.plaintext) || dec.KeyVersionID != r.out.KeyVersionID {
				t.Fatalf("afterwards: %q with %s, want %q with %s", dec.Plaintext, dec.KeyVersionID, r.plaintext, r.out.KeyVersionID)
			}
			versions[dec.KeyVersionID]++
			total++
		}
	}
	list, err := c.ListKeyVersions(key)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(list.KeyVersions)) != rotations.Load()+1 {
		t.Fatalf("%d versions after %d rotations", len(list.KeyVersions), rotations.Load())
	}
	if len(versions) < 2 {
		t.Fatalf("all %d blobs used one version", total)
	}
	t.Logf("%d goroutines × %d rounds; %d rotations; the %d blobs without Aad span %d versions",
		workers, rounds, rotations.Load(), total, len(versions))
}

// libraryDir is where liblocalkms.so is for the C helper program: run-tests.sh
// exports LOCALKMS_LIB_DIR; otherwise the first -L of CGO_LDFLAGS.
func libraryDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("LOCALKMS_LIB_DIR"); dir != "" {
		return dir
	}
	for _, f := range strings.Fields(os.Getenv("CGO_LDFLAGS")) {
		if strings.HasPrefix(f, "-L") && len(f) > 2 {
			return f[2:]
		}
	}
	t.Fatal("set LOCALKMS_LIB_DIR (or CGO_LDFLAGS=-L<dir>) to the directory holding liblocalkms.so; run-tests.sh does")
	return ""
}

// A blob made in Go opens in C and the other way round: both processes open one
// store file with one master-key file.
func TestInteropWithC(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s not found: install a C compiler (Debian: apt-get install build-essential)", cc)
	}
	include, err := filepath.Abs(filepath.Join("..", "..", "include"))
	if err != nil {
		t.Fatal(err)
	}
	libDir := libraryDir(t)
	dir := t.TempDir()
	prog := filepath.Join(dir, "interop")
	build := exec.Command(cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
		"-I"+include, filepath.Join("testdata", "interop.c"),
		"-L"+libDir, "-Wl,-rpath,"+libDir, "-llocalkms", "-o", prog)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", build.Args, err, out)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(prog, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("interop %v: %v\n%s", args, err, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}

	store := filepath.Join(dir, "shared.kms")
	mk := filepath.Join(dir, "master.key")
	writeMasterKey(t, mk, 0o600)
	c, err := localkms.Open(localkms.Options{KeystorePath: store, MasterKeyFile: mk, CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := createKey(t, c, localkms.CreateKeyInput{Description: "shared with C"})
	if err := c.CreateAlias("alias/interop", key); err != nil {
		t.Fatal(err)
	}

	// Go encrypts, C decrypts.
	fromGo := []byte("sealed in Go, opened in C \x00\xff")
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/interop", Plaintext: fromGo})
	if err != nil {
		t.Fatal(err)
	}
	goBlob := filepath.Join(dir, "go.blob")
	if err := os.WriteFile(goBlob, enc.CiphertextBlob, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "c.plain")
	if version := run("decrypt", store, mk, goBlob, out); version != enc.KeyVersionID {
		t.Fatalf("C decrypted with %q, Go encrypted with %q", version, enc.KeyVersionID)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, fromGo) {
		t.Fatalf("C decrypted %q, %v", got, err)
	}

	// C encrypts, Go decrypts.
	fromC := []byte("sealed in C, opened in Go")
	ptFile := filepath.Join(dir, "c-input")
	if err := os.WriteFile(ptFile, fromC, 0o600); err != nil {
		t.Fatal(err)
	}
	cBlob := filepath.Join(dir, "c.blob")
	version := run("encrypt", store, mk, "alias/interop", ptFile, cBlob)
	if version != enc.KeyVersionID {
		t.Fatalf("C encrypted with %q, want %q", version, enc.KeyVersionID)
	}
	blob, err := os.ReadFile(cBlob)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: blob})
	if err != nil || !bytes.Equal(dec.Plaintext, fromC) || dec.KeyVersionID != version {
		t.Fatalf("Go decrypting C's blob: %+v, %v", dec, err)
	}

	// C rotates the key, then encrypts with the new version; this Go client
	// has never seen that version and finds it in the file.
	rotated := run("encrypt", store, mk, key, ptFile, cBlob, "rotate")
	if rotated == version || !strings.HasPrefix(rotated, key+"-") {
		t.Fatalf("C rotated to %q (was %q)", rotated, version)
	}
	blob, err = os.ReadFile(cBlob)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: blob})
	if err != nil || !bytes.Equal(dec.Plaintext, fromC) || dec.KeyVersionID != rotated {
		t.Fatalf("Go decrypting C's blob after C's rotation: %+v, %v", dec, err)
	}
	versions, err := c.ListKeyVersions(key)
	if err != nil || len(versions.KeyVersions) != 2 || versions.KeyVersions[1].KeyVersionID != rotated {
		t.Fatalf("Go's view of the versions after C's rotation: %+v, %v", versions, err)
	}
	// Go's new blobs use the new primary, and C opens them.
	enc, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: fromGo})
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyVersionID != rotated {
		t.Fatalf("Go encrypted with %s after C rotated to %s", enc.KeyVersionID, rotated)
	}
	if err := os.WriteFile(goBlob, enc.CiphertextBlob, 0o600); err != nil {
		t.Fatal(err)
	}
	if v := run("decrypt", store, mk, goBlob, out); v != rotated {
		t.Fatalf("C decrypted with %q, want %q", v, rotated)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, fromGo) {
		t.Fatalf("C decrypted %q, %v", got, err)
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
