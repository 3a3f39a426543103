package localkms_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	localkms "localkms.dev/localkms/bindings/go"
)

// The README's first program: a key, an alias, a blob sealed and opened, and a
// failure read as an *Error.
func Example() {
	client, err := localkms.OpenInMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	keyID, _ := client.CreateKey(localkms.CreateKeyInput{Description: "my key"}) // Aliyun_AES_256
	_ = client.CreateAlias("alias/app", keyID)

	enc, err := client.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("secret")})
	if err != nil {
		log.Fatal(err)
	}
	dec, err := client.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(dec.Plaintext), dec.KeyVersionID == enc.KeyVersionID)
	localkms.Wipe(dec.Plaintext)

	_, err = client.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/missing"})
	var kerr *localkms.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Code, kerr.HTTPStatus, kerr.Status == localkms.StatusAliasNotFound)
	}
	// Output:
	// secret true
	// Forbidden.AliasNotFound 404 true
}

// A store file kept between runs: the second client finds the key the first
// one made. The master key seals the store; keep it apart from the file.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "localkms-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	options := localkms.Options{
		KeystorePath:    filepath.Join(dir, "keys.kms"),
		MasterKey:       make([]byte, 32), // use 32 random bytes from a secret store
		CreateIfMissing: true,
	}

	first, err := localkms.Open(options)
	if err != nil {
		log.Fatal(err)
	}
	keyID, _ := first.CreateKey(localkms.CreateKeyInput{})
	enc, _ := first.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: []byte("kept")})
	first.Close()

	second, err := localkms.Open(options)
	if err != nil {
		log.Fatal(err)
	}
	defer second.Close()
	dec, err := second.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	fmt.Println(string(dec.Plaintext), err)
	// Output: kept <nil>
}

// The library asks a Go function for the time: here a fixed clock moved past
// the rotation interval, so the key's next use makes a new version.
func ExampleClient_SetClock() {
	client, err := localkms.OpenInMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = client.SetClock(func() int64 { return now.Unix() })

	keyID, _ := client.CreateKey(localkms.CreateKeyInput{})
	_ = client.UpdateRotationPolicy(keyID, true, "7d")
	before, _ := client.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: []byte("x")})
	now = now.Add(8 * 24 * time.Hour)
	after, _ := client.AdvanceEncrypt(localkms.EncryptInput{KeyID: keyID, Plaintext: []byte("x")})
	versions, _ := client.ListKeyVersions(keyID)
	fmt.Println(before.KeyVersionID != after.KeyVersionID, len(versions.KeyVersions))
	// Output: true 2
}

// StatusOf and the Is* helpers read a failure without errors.As.
func ExampleStatusOf() {
	client, err := localkms.OpenInMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	_, err = client.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: []byte("not a blob")})
	fmt.Println(localkms.StatusOf(err), localkms.IsInvalidCiphertext(err))
	// Output: InvalidCiphertext (105) true
}
