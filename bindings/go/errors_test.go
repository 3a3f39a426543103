package localkms_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	localkms "localkms.dev/localkms/bindings/go"
)

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
