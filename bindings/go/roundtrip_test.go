package localkms_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	localkms "localkms.dev/localkms/bindings/go"
)

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
