package localkms_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	localkms "localkms.dev/localkms/bindings/go"
)

// interopProgram is the compiled examples/interop/interop.c that
// run-tests.sh builds and names in LOCALKMS_INTEROP.
func interopProgram(t *testing.T) string {
	t.Helper()
	prog := os.Getenv("LOCALKMS_INTEROP")
	if prog == "" {
		t.Fatal("LOCALKMS_INTEROP must name the compiled examples/interop/interop.c; bindings/go/run-tests.sh builds it")
	}
	return prog
}

// A blob made in Go opens in C and the other way round: both processes open one
// store file with one master-key file. C also rotates the key, and this Go
// client, which never saw the new version, opens C's blob made with it.
func TestInteropWithC(t *testing.T) {
	prog := interopProgram(t)
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

	dir := t.TempDir()
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

	// Go encrypts, C decrypts, with an Aad on both sides.
	fromGo := []byte("sealed in Go, opened in C \x00\xff")
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/interop", Plaintext: fromGo, Aad: []byte("go-aad")})
	if err != nil {
		t.Fatal(err)
	}
	goBlob := filepath.Join(dir, "go.blob")
	if err := os.WriteFile(goBlob, enc.CiphertextBlob, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "c.plain")
	if version := run("decrypt", store, mk, goBlob, out, "--aad", "go-aad"); version != enc.KeyVersionID {
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

	// C rotates the key, then encrypts with the new version.
	rotated := run("encrypt", store, mk, key, ptFile, cBlob, "--rotate")
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
}
