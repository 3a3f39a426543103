package localkms_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	localkms "localkms.dev/localkms/bindings/go"
)

// The zero CreateKeyInput passes every field of kms_create_key_options as NULL,
// and an empty Algorithms slice is NULL too: the library's defaults, GCM only.
func TestCreateKeyDefaults(t *testing.T) {
	c := newClient(t)
	for name, in := range map[string]localkms.CreateKeyInput{
		"zero value":       {},
		"empty Algorithms": {Algorithms: []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			key := createKey(t, c, in)
			d, err := c.DescribeKey(key)
			if err != nil {
				t.Fatal(err)
			}
			m := d.KeyMetadata
			if m.KeyID != key || m.KeySpec != "Aliyun_AES_256" || m.KeyUsage != "ENCRYPT/DECRYPT" ||
				m.Origin != "Aliyun_KMS" || m.Description != "" || m.KeyState != "Enabled" {
				t.Fatalf("defaults: %+v", m)
			}
			enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")})
			if err != nil || enc.Algorithm != "AES_GCM" {
				t.Fatalf("AdvanceEncrypt with the default algorithm: %+v, %v", enc, err)
			}
			for _, alg := range []string{"AES_CBC", "AES_ECB"} {
				_, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x"), Algorithm: alg})
				expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
			}
		})
	}
}

// Every field of CreateKeyInput reaches its own field of kms_create_key_options.
// (cgo compiles against the header's struct, so the Go side has no layout of
// its own that could drift from C's; what the wrapper could get wrong is a value
// put into the wrong field, or a list joined wrongly.)
func TestCreateKeyOptionsFields(t *testing.T) {
	c := newClient(t)

	// KeySpec, KeyUsage, Description and Algorithms.
	sm4 := createKey(t, c, localkms.CreateKeyInput{
		KeySpec:     "Aliyun_SM4",
		KeyUsage:    "ENCRYPT/DECRYPT",
		Description: "an SM4 key",
		Algorithms:  []string{"SM4_GCM", "SM4_CBC"},
	})
	d, err := c.DescribeKey(sm4)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; m.KeySpec != "Aliyun_SM4" || m.KeyUsage != "ENCRYPT/DECRYPT" ||
		m.Description != "an SM4 key" || m.Origin != "Aliyun_KMS" {
		t.Fatalf("SM4 key: %+v", m)
	}
	for _, tc := range []struct {
		algorithm, want string
		blobAlg         byte
	}{
		{"", "SM4_GCM", 4},
		{"SM4_CBC", "SM4_CBC", 5},
	} {
		enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: sm4, Plaintext: []byte("sm4"), Algorithm: tc.algorithm})
		if err != nil {
			t.Fatalf("AdvanceEncrypt %q: %v", tc.algorithm, err)
		}
		if enc.Algorithm != tc.want || enc.CiphertextBlob[2] != tc.blobAlg {
			t.Fatalf("AdvanceEncrypt %q: algorithm %q, blob byte %d", tc.algorithm, enc.Algorithm, enc.CiphertextBlob[2])
		}
		dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "sm4" || dec.Algorithm != tc.want {
			t.Fatalf("AdvanceDecrypt %q: %+v, %v", tc.algorithm, dec, err)
		}
	}
	// Not in the list: refused.
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: sm4, Plaintext: []byte("x"), Algorithm: "SM4_ECB"})
	kerr := expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
	if !strings.Contains(kerr.Message, "SM4_GCM") || !strings.Contains(kerr.Message, "SM4_CBC") {
		t.Errorf("message %q does not name the permitted algorithms", kerr.Message)
	}

	// Origin and KeyID: the KeyId of a mirrored key.
	mirrored, err := c.CreateKey(localkms.CreateKeyInput{Origin: "EXTERNAL", KeyID: "Mirrored-Key-01"})
	if err != nil || mirrored != "Mirrored-Key-01" {
		t.Fatalf("CreateKey with a KeyID: %q, %v", mirrored, err)
	}
	d, err = c.DescribeKey(mirrored)
	if err != nil || d.KeyMetadata.KeyID != mirrored || d.KeyMetadata.Origin != "EXTERNAL" || d.KeyMetadata.KeyState != "PendingImport" {
		t.Fatalf("mirrored key: %+v, %v", d, err)
	}

	// The library's refusals come back as *Error with a RequestId.
	for name, in := range map[string]localkms.CreateKeyInput{
		"KeyID without EXTERNAL": {KeyID: "not-external"},
		"malformed KeyID":        {Origin: "EXTERNAL", KeyID: "no spaces allowed"},
		"KeyID taken":            {Origin: "EXTERNAL", KeyID: mirrored},
		"algorithm of another":   {Algorithms: []string{"AES_GCM", "SM4_CBC"}},
		"unknown algorithm":      {Algorithms: []string{"AES_XTS"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateKey(in)
			expectError(t, err, localkms.StatusInvalidParameter, "InvalidParameter", 400)
		})
	}
	// A NUL byte cannot cross into C: the wrapper refuses it itself.
	for param, in := range map[string]localkms.CreateKeyInput{
		"KeyId":      {Origin: "EXTERNAL", KeyID: "abc\x00def"},
		"Algorithms": {Algorithms: []string{"AES_GCM\x00"}},
	} {
		_, err := c.CreateKey(in)
		var kerr *localkms.Error
		if !errors.As(err, &kerr) || kerr.Status != localkms.StatusInvalidParameter || kerr.RequestID != "" ||
			!strings.Contains(kerr.Message, param) {
			t.Errorf("NUL in %s: %#v", param, err)
		}
	}
}

func newGCM(t *testing.T, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcm
}

// A mirror of a cloud key: the cloud's UUID-form KeyId and a cloud-style
// 36-character KeyVersionId, its material imported with ImportKeyVersion, and
// ciphertext made outside the library (Go's crypto/aes and crypto/cipher,
// standing in for the cloud) opened through the binding, both as the '$' blob
// and in the gateway form Alibaba's SDKs send; and the other way round.
func TestMirroredCloudKey(t *testing.T) {
	c := newClient(t)
	const keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	const versionID = "2ab1a983-7072-4bbc-a582-584b5bd80ab1"
	if len(versionID) != 36 {
		t.Fatal("the test's KeyVersionId is not 36 characters")
	}
	got, err := c.CreateKey(localkms.CreateKeyInput{Origin: "EXTERNAL", KeyID: keyID})
	if err != nil || got != keyID {
		t.Fatalf("CreateKey: %q, %v", got, err)
	}
	material := randomBytes(t, 32)

	// Refusals map to *Error: by the library, or by the wrapper for a NUL.
	expectError(t, c.ImportKeyVersion(keyID, versionID, material[:31], time.Time{}),
		localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	expectError(t, c.ImportKeyVersion(keyID, "not 36 characters", material, time.Time{}),
		localkms.StatusInvalidParameter, "InvalidParameter", 400)
	expectError(t, c.ImportKeyVersion(keyID, versionID, nil, time.Time{}),
		localkms.StatusMissingParameter, "MissingParameter", 400)
	expectError(t, c.ImportKeyVersion(missingKeyID, versionID, material, time.Time{}),
		localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)
	if err := c.ImportKeyVersion(keyID, versionID[:35]+"\x00", material, time.Time{}); wrapperRefusal(err) != "KeyVersionId" {
		t.Fatalf("NUL in the KeyVersionId: %#v", err)
	}

	if err := c.ImportKeyVersion(keyID, versionID, material, time.Time{}); err != nil {
		t.Fatalf("ImportKeyVersion: %v", err)
	}
	versions, err := c.ListKeyVersions(keyID)
	if err != nil || len(versions.KeyVersions) != 1 || versions.KeyVersions[0].KeyVersionID != versionID ||
		versions.KeyVersions[0].KeyID != keyID {
		t.Fatalf("versions after the import: %+v, %v", versions, err)
	}
	d, err := c.DescribeKey(keyID)
	if err != nil || d.KeyMetadata.KeyState != "Enabled" || d.KeyMetadata.PrimaryKeyVersion != versionID {
		t.Fatalf("after the import: %+v, %v", d, err)
	}

	// The cloud's ciphertext: '$' | 0x00 | 0x02 (AES_GCM) | KeyVersionId | Iv | ciphertext || tag.
	gcm := newGCM(t, material)
	plaintext := []byte("sealed by the cloud")
	aad := []byte("tenant=7")
	iv := randomBytes(t, 12)
	var blob []byte
	blob = append(blob, '$', 0x00, 0x02)
	blob = append(blob, versionID...)
	blob = append(blob, iv...)
	blob = gcm.Seal(blob, iv, plaintext, aad)
	gateway := blob[3:]
	for name, in := range map[string]localkms.DecryptInput{
		"$ blob":                 {CiphertextBlob: blob, Aad: aad},
		"gateway form":           {CiphertextBlob: gateway, Aad: aad},
		"gateway form, SDK's Iv": {CiphertextBlob: gateway, Iv: gateway[36:48], Aad: aad},
	} {
		t.Run(name, func(t *testing.T) {
			dec, err := c.AdvanceDecrypt(in)
			if err != nil {
				t.Fatalf("AdvanceDecrypt: %v", err)
			}
			if !bytes.Equal(dec.Plaintext, plaintext) || dec.KeyID != keyID || dec.KeyVersionID != versionID ||
				dec.Algorithm != "AES_GCM" || dec.PaddingMode != "" {
				t.Fatalf("AdvanceDecrypt: %+v", dec)
			}
			in.Aad = []byte("tenant=8")
			_, err = c.AdvanceDecrypt(in)
			expectError(t, err, localkms.StatusInvalidCiphertext, "InvalidCiphertext", 400)
		})
	}

	// The other way: the library's blob and bare ciphertext open with Go's GCM.
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: plaintext, Aad: aad})
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyID != keyID || enc.KeyVersionID != versionID || string(enc.CiphertextBlob[3:39]) != versionID {
		t.Fatalf("AdvanceEncrypt with the mirrored key: %+v", enc)
	}
	if opened, err := gcm.Open(nil, enc.Iv, enc.CiphertextBlob[39+12:], aad); err != nil || !bytes.Equal(opened, plaintext) {
		t.Fatalf("Go's GCM opening the library's blob: %q, %v", opened, err)
	}
	bare, err := c.Encrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: plaintext})
	if err != nil || bare.KeyVersionID != versionID {
		t.Fatalf("Encrypt with the mirrored key: %+v, %v", bare, err)
	}
	if opened, err := gcm.Open(nil, bare.Iv, bare.CiphertextBlob, nil); err != nil || !bytes.Equal(opened, plaintext) {
		t.Fatalf("Go's GCM opening the library's Encrypt output: %q, %v", opened, err)
	}

	// A second cloud version, with an expiry: it becomes primary; the first
	// version's blobs still open.
	const version2 = "3bc2b094-8183-4ccd-b693-695c6ce91bc2"
	material2 := randomBytes(t, 32)
	expires := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := c.ImportKeyVersion(keyID, version2, material2, expires); err != nil {
		t.Fatalf("ImportKeyVersion of a second version: %v", err)
	}
	d, err = c.DescribeKey(keyID)
	if err != nil || d.KeyMetadata.PrimaryKeyVersion != version2 || !d.KeyMetadata.MaterialExpireTime.Equal(expires) {
		t.Fatalf("after the second import (expiry %v): %+v, %v", expires, d, err)
	}
	enc2, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: plaintext})
	if err != nil || enc2.KeyVersionID != version2 {
		t.Fatalf("AdvanceEncrypt after the second import: %+v, %v", enc2, err)
	}
	if opened, err := newGCM(t, material2).Open(nil, enc2.Iv, enc2.CiphertextBlob[39+12:], nil); err != nil || !bytes.Equal(opened, plaintext) {
		t.Fatalf("Go's GCM opening the second version's blob: %v", err)
	}
	if dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: blob, Aad: aad}); err != nil || dec.KeyVersionID != versionID {
		t.Fatalf("the first version's blob after the second import: %+v, %v", dec, err)
	}
	// The same id with other material is refused; with the same, accepted.
	expectError(t, c.ImportKeyVersion(keyID, versionID, material2, time.Time{}),
		localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	if err := c.ImportKeyVersion(keyID, versionID, material, time.Time{}); err != nil {
		t.Fatalf("the same material again: %v", err)
	}
	// "" is a fresh KeyVersionId (NULL).
	if err := c.ImportKeyVersion(keyID, "", randomBytes(t, 32), time.Time{}); err != nil {
		t.Fatalf("ImportKeyVersion with a fresh id: %v", err)
	}
	versions, err = c.ListKeyVersions(keyID)
	if err != nil || len(versions.KeyVersions) != 3 || len(versions.KeyVersions[2].KeyVersionID) != 36 {
		t.Fatalf("versions after three imports: %+v, %v", versions, err)
	}
	localkms.Wipe(material)
	localkms.Wipe(material2)
}

// Options.KeystoreURL reaches kms_open_options.keystore_url. None of these
// cases needs a PostgreSQL server: the library refuses them before connecting.
func TestOpenKeystoreURL(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "keys.kms")
	const url = "postgresql://localkms@%2Fnonexistent%2Fsocket/localkms"

	t.Run("both a path and a URL", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystorePath: store, KeystoreURL: url,
			MasterKey: randomBytes(t, 32), CreateIfMissing: true})
		kerr := expectError(t, err, localkms.StatusInvalidParameter, "InvalidParameter", 400)
		if !localkms.IsBadRequest(err) || kerr.RequestID == "" || !strings.Contains(kerr.Message, "keystore_url") {
			t.Fatalf("the library's refusal: %+v", kerr)
		}
		if _, err := os.Stat(store); !os.IsNotExist(err) {
			t.Fatalf("a refused open created the store: %v", err)
		}
	})
	t.Run("a URL without a master key", func(t *testing.T) {
		// In memory (the field lost on the way) would open; a store without a
		// master key is MissingParameter.
		_, err := localkms.Open(localkms.Options{KeystoreURL: url})
		expectError(t, err, localkms.StatusMissingParameter, "MissingParameter", 400)
	})
	t.Run("a NUL byte in the URL", func(t *testing.T) {
		_, err := localkms.Open(localkms.Options{KeystoreURL: url + "\x00", MasterKey: randomBytes(t, 32)})
		var kerr *localkms.Error
		if !errors.As(err, &kerr) || kerr.Status != localkms.StatusInvalidParameter || kerr.RequestID != "" ||
			!strings.Contains(kerr.Message, `"KeystoreURL"`) {
			t.Fatalf("the wrapper's refusal: %v", err)
		}
	})
}

// wrapperRefusal returns the parameter that an InvalidParameter raised by the wrapper
// itself (no RequestId) names, or "" for any other error.
func wrapperRefusal(err error) string {
	var kerr *localkms.Error
	if !errors.As(err, &kerr) || kerr.Status != localkms.StatusInvalidParameter || kerr.RequestID != "" {
		return ""
	}
	for _, p := range []string{"KeyVersionId", "KeyId", "Algorithms"} {
		if strings.Contains(kerr.Message, `"`+p+`"`) {
			return p
		}
	}
	return ""
}
