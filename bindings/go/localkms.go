// Over 400 lines because it holds one method per function of
// include/localkms.h (about thirty) with their input and output types; the
// errors (errors.go) and the clock callback (clock.go) are apart.

// Package localkms is a Go binding (cgo) of liblocalkms, the offline,
// in-process re-implementation of Alibaba Cloud KMS symmetric encryption
// (AdvanceEncrypt, AdvanceDecrypt, Encrypt, Decrypt, data keys, key versions and
// rotation, aliases, key states, imported key material).
//
// Every method maps to one function of include/localkms.h and has its
// semantics; the header documents them. A Client may be used from any number of
// goroutines at once. Failed calls return an *Error (use errors.As, StatusOf or
// the Is* helpers).
//
// Building: the package links the installed library through pkg-config
// (`make install`, see the repository's README), so with a prefix outside the
// default search paths tell pkg-config and the loader where it is:
//
//	PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig LD_LIBRARY_PATH=$PREFIX/lib go run .
//
// Plaintext that the package returns (DecryptOutput.Plaintext,
// DataKeyOutput.Plaintext) is a Go copy owned by the caller; the library's own
// copy is wiped before it is freed. Wipe yours with Wipe when you are done (the
// Go runtime may have copied it elsewhere already; this is best effort).
package localkms

/*
#cgo pkg-config: localkms
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "localkms.h"

// The clock callback, defined (//export) in clock.go.
extern int64_t localkmsGoClock(void *context);

// Installs localkmsGoClock as the client's clock; slot is C memory holding a
// cgo.Handle value.
static kms_status localkms_install_go_clock(kms_client *client, uintptr_t *slot, kms_error *error) {
	return kms_client_set_clock(client, localkmsGoClock, slot, error);
}
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Version is the library's version (kms_version), e.g. "0.1.0".
func Version() string {
	return C.GoString(C.kms_version())
}

// Wipe overwrites b with zeros. Use it on plaintext and data keys once you no
// longer need them.
func Wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
	runtime.KeepAlive(b)
}

// cFlag is a Go bool as the header's int flags take it: 1 or 0. (The C ABI has
// no bool: create_if_missing and enable_automatic_rotation are ints, any
// non-zero value meaning true.)
func cFlag(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Options say how to open a client (kms_open_options). The zero value is an
// in-memory store.
type Options struct {
	// KeystorePath is the embedded store, an SQLite database file (the library
	// also keeps "<path>-wal" and "<path>-shm" beside it); "" (with KeystoreURL
	// "" too) for an in-memory store that goes with the client. Several clients
	// and processes may share one file.
	KeystorePath string
	// MasterKey is the 32 bytes that seal the store at rest, or nil to use
	// MasterKeyFile. The wrapper hands the library a C copy, wiped after the call.
	MasterKey []byte
	// MasterKeyFile holds the master key (32 raw bytes or 64 hex digits) and must
	// not be accessible to group or others (mode 0600 or stricter).
	MasterKeyFile string
	// CreateIfMissing creates the store when it does not exist: the SQLite
	// file, or the localkms_* tables in the PostgreSQL database.
	CreateIfMissing bool
	// KeystoreURL is a shared PostgreSQL store, "postgresql://user@host/db" (a
	// Unix socket as a percent-encoded host:
	// "postgresql://user@%2Fvar%2Frun%2Fpostgresql/db"), or "" for none. The
	// database must exist. Not together with KeystorePath (InvalidParameter).
	KeystoreURL string
}

// Client is one handle on one key store (kms_client). Its methods may be called
// from any number of goroutines at once. Close it when done; a finalizer closes
// a Client that is garbage collected unclosed, but only Close is deterministic.
type Client struct {
	// mu is held shared by every call and exclusively by Close, so that no call
	// is running when the handle is freed, and none starts afterwards.
	mu  sync.RWMutex
	ptr *C.kms_client

	// clockMu serialises SetClock. The clock slot and handle live until Close,
	// because a call that started before SetClock replaced the callback may still
	// be calling it.
	clockMu        sync.Mutex
	clock          *clockState
	clockHandle    cgo.Handle
	clockSlot      *C.uintptr_t
	clockInstalled bool
}

// Open opens a client on a key store (kms_client_open).
func Open(opts Options) (*Client, error) {
	var strs cstrings
	defer strs.free()
	var copts C.kms_open_options
	var err error
	if copts.keystore_path, err = strs.add(opts.KeystorePath, "KeystorePath"); err != nil {
		return nil, err
	}
	if copts.master_key_file, err = strs.add(opts.MasterKeyFile, "MasterKeyFile"); err != nil {
		return nil, err
	}
	if copts.keystore_url, err = strs.add(opts.KeystoreURL, "KeystoreURL"); err != nil {
		return nil, err
	}
	if copts.keystore_url != nil {
		// A URL may carry a password: zero the C copy before strs.free frees it
		// (deferred calls run last in, first out).
		defer C.memset(unsafe.Pointer(copts.keystore_url), 0, C.size_t(len(opts.KeystoreURL)))
	}
	copts.create_if_missing = cFlag(opts.CreateIfMissing)
	// The options struct is Go memory passed to C, so it may hold only C pointers:
	// the master key goes in as a C copy, wiped and freed after the call.
	if len(opts.MasterKey) > 0 {
		mk := C.CBytes(opts.MasterKey)
		defer func() {
			C.memset(mk, 0, C.size_t(len(opts.MasterKey)))
			C.free(mk)
		}()
		copts.master_key = (*C.uint8_t)(mk)
		copts.master_key_len = C.size_t(len(opts.MasterKey))
	}
	var ptr *C.kms_client
	var cerr C.kms_error
	if st := C.kms_client_open(&copts, &ptr, &cerr); st != C.KMS_STATUS_OK {
		return nil, newError(st, &cerr)
	}
	c := &Client{ptr: ptr}
	runtime.SetFinalizer(c, func(c *Client) { _ = c.Close() })
	return c, nil
}

// OpenInMemory opens a client on a fresh in-memory store.
func OpenInMemory() (*Client, error) {
	return Open(Options{})
}

// Close frees the client and everything it holds (kms_client_free wipes key
// material). It waits for running calls to finish; every later call returns
// ErrClosed. Closing a closed client does nothing and returns nil.
func (c *Client) Close() error {
	// Lock order: clockMu, then mu (as in SetClock).
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	C.kms_client_free(c.ptr)
	c.ptr = nil
	// Only now, with the client gone, can no call be using the clock.
	if c.clockSlot != nil {
		C.free(unsafe.Pointer(c.clockSlot))
		c.clockSlot = nil
		c.clockHandle.Delete()
		c.clock = nil
		c.clockInstalled = false
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// call runs f with the live handle and a kms_error, and turns a failure into an
// *Error. The read lock keeps Close from freeing the handle meanwhile.
func (c *Client) call(f func(client *C.kms_client, cerr *C.kms_error) C.kms_status) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	var cerr C.kms_error
	if st := f(c.ptr, &cerr); st != C.KMS_STATUS_OK {
		return newError(st, &cerr)
	}
	return nil
}

// SetClock sets the time source (Unix seconds) used for automatic rotation,
// expiry of imported material, deletion dates and the dates in documents
// (kms_client_set_clock); nil restores the system clock. now is called from
// whichever goroutine is making a call on the client, possibly from several at
// once, so it must be safe for concurrent use. It should not call methods of
// this client (Close or SetClock from it deadlock). Should it panic, that call
// uses the system clock.
func (c *Client) SetClock(now func() int64) error {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	if now == nil {
		err := c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
			return C.kms_client_set_clock(p, nil, nil, e)
		})
		if err == nil && c.clock != nil {
			c.clock.fn.Store(nil)
			c.clockInstalled = false
		}
		return err
	}
	if c.clockSlot == nil {
		// The library keeps the context pointer, so it must not be Go memory: a
		// C-allocated slot holds the handle's integer value. Both live until Close.
		c.mu.RLock()
		closed := c.ptr == nil
		c.mu.RUnlock()
		if closed {
			return ErrClosed
		}
		c.clock = &clockState{}
		c.clockHandle = cgo.NewHandle(c.clock)
		c.clockSlot = (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
		*c.clockSlot = C.uintptr_t(c.clockHandle)
	}
	c.clock.fn.Store(&now)
	if c.clockInstalled {
		return nil
	}
	slot := c.clockSlot
	err := c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.localkms_install_go_clock(p, slot, e)
	})
	if err != nil {
		c.clock.fn.Store(nil)
		return err
	}
	c.clockInstalled = true
	return nil
}

// ---------------------------------------------------------------------------
// Encryption

// EncryptInput are the parameters of AdvanceEncrypt and Encrypt.
type EncryptInput struct {
	// KeyID is a KeyId or an alias ("alias/..."). Required.
	KeyID string
	// Plaintext is the data to encrypt; nil or empty is the empty string. The
	// library reads it during the call only.
	Plaintext []byte
	// Algorithm is "" for the key's GCM (AES_GCM; SM4_GCM for an Aliyun_SM4
	// key), or "AES_GCM", "AES_CBC", "AES_ECB", "SM4_GCM", "SM4_CBC", "SM4_ECB".
	// A key permits only the algorithms it was created with (CreateKeyInput's
	// Algorithms; GCM only by default): any other is Rejected.UnsupportedOperation.
	Algorithm string
	// Iv is nil for a fresh random IV (advised); otherwise exactly 12 bytes for
	// GCM, 16 for CBC, none for ECB.
	Iv []byte
	// Aad is for GCM only, at most 8192 bytes; give it again to decrypt.
	Aad []byte
	// PaddingMode is for CBC / ECB: "PKCS7_PADDING" ("" is the default)
	// or "NO_PADDING" (the plaintext length must be a multiple of 16).
	PaddingMode string
}

// EncryptOutput is what AdvanceEncrypt and Encrypt return (kms_encrypt_response).
type EncryptOutput struct {
	// CiphertextBlob is, for AdvanceEncrypt, the self-describing blob that
	// AdvanceDecrypt opens from itself alone; for Encrypt, the bare ciphertext
	// (AES_GCM: ciphertext || 16-byte tag).
	CiphertextBlob []byte
	// KeyID is the real KeyId, also when an alias was given.
	KeyID string
	// KeyVersionID is the version that encrypted.
	KeyVersionID string
	// Algorithm is "AES_GCM", "AES_CBC", "AES_ECB", "SM4_GCM", "SM4_CBC" or "SM4_ECB".
	Algorithm string
	// Iv is the IV used (12 bytes for GCM, 16 for CBC); nil for ECB.
	Iv []byte
	// PaddingMode is "PKCS7_PADDING" or "NO_PADDING" for CBC / ECB, "" for GCM.
	PaddingMode string
	// RequestID is a fresh UUID for every call.
	RequestID string
}

// AdvanceEncrypt encrypts with the key's primary version and returns the
// self-describing blob (kms_advance_encrypt).
func (c *Client) AdvanceEncrypt(in EncryptInput) (*EncryptOutput, error) {
	return c.encrypt(in, true)
}

// Encrypt encrypts with the key's initial version, whatever rotations happened,
// and returns the bare ciphertext (kms_encrypt). Keep KeyID, Algorithm, Iv and
// PaddingMode to decrypt with Decrypt.
func (c *Client) Encrypt(in EncryptInput) (*EncryptOutput, error) {
	return c.encrypt(in, false)
}

func (c *Client) encrypt(in EncryptInput, advance bool) (*EncryptOutput, error) {
	var strs cstrings
	defer strs.free()
	keyID, err := strs.add(in.KeyID, "KeyId")
	if err != nil {
		return nil, err
	}
	alg, err := strs.add(in.Algorithm, "Algorithm")
	if err != nil {
		return nil, err
	}
	pad, err := strs.add(in.PaddingMode, "PaddingMode")
	if err != nil {
		return nil, err
	}
	// Go memory passed for the duration of the call only; the library copies
	// what it needs and keeps no pointer to it.
	pt, ptLen := bytesArg(in.Plaintext)
	iv, ivLen := bytesArg(in.Iv)
	aad, aadLen := bytesArg(in.Aad)
	var resp *C.kms_encrypt_response
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		if advance {
			return C.kms_advance_encrypt(p, keyID, pt, ptLen, alg, iv, ivLen, aad, aadLen, pad, &resp, e)
		}
		return C.kms_encrypt(p, keyID, pt, ptLen, alg, iv, ivLen, aad, aadLen, pad, &resp, e)
	})
	runtime.KeepAlive(in.Plaintext)
	runtime.KeepAlive(in.Iv)
	runtime.KeepAlive(in.Aad)
	if err != nil {
		return nil, err
	}
	defer C.kms_encrypt_response_free(resp)
	return &EncryptOutput{
		CiphertextBlob: goBytes(resp.ciphertext_blob, resp.ciphertext_blob_len),
		KeyID:          C.GoString(resp.key_id),
		KeyVersionID:   C.GoString(resp.key_version_id),
		Algorithm:      C.GoString(resp.algorithm),
		Iv:             goBytes(resp.iv, resp.iv_len),
		PaddingMode:    C.GoString(resp.padding_mode),
		RequestID:      C.GoString(resp.request_id),
	}, nil
}

// DecryptInput are the parameters of AdvanceDecrypt and Decrypt.
type DecryptInput struct {
	// CiphertextBlob is an AdvanceEncrypt blob (or, without KeyID, its
	// "gateway" form: the blob without its first 3 bytes, KeyVersionId | Iv |
	// ciphertext || tag, as Alibaba's SDKs send it), or Encrypt output when
	// KeyID is given. Required.
	CiphertextBlob []byte
	// KeyID: AdvanceDecrypt: "" to open an AdvanceEncrypt blob from itself alone;
	// given, the blob is Encrypt output. Decrypt: required.
	KeyID string
	// Algorithm: with KeyID, how the blob was made ("" is the key's GCM). Without
	// KeyID, "" or what the caller expects (a blob made otherwise is then
	// InvalidCiphertext; pin "AES_GCM" to refuse a GCM blob whose header was
	// changed to a block mode).
	Algorithm string
	// Iv: with KeyID, the IV of the encryption (GCM, CBC). Without KeyID it is
	// ignored (the blob carries its IV), as the service ignores the Iv that
	// Alibaba's SDKs send along with a gateway-form blob (its bytes 36 to 48).
	Iv []byte
	// Aad: the Aad given to encrypt (GCM only).
	Aad []byte
	// PaddingMode: as Algorithm, for CBC / ECB.
	PaddingMode string
}

// DecryptOutput is what AdvanceDecrypt and Decrypt return (kms_decrypt_response).
type DecryptOutput struct {
	// Plaintext is a Go copy owned by the caller (the library wiped its own):
	// Wipe it when done.
	Plaintext []byte
	KeyID     string
	// KeyVersionID is the version that decrypted.
	KeyVersionID string
	Algorithm    string
	// PaddingMode is "" for GCM.
	PaddingMode string
	RequestID   string
}

// AdvanceDecrypt opens an AdvanceEncrypt blob from the blob and Aad alone, with
// the version recorded in it; or, with KeyID given, Encrypt output
// (kms_advance_decrypt).
func (c *Client) AdvanceDecrypt(in DecryptInput) (*DecryptOutput, error) {
	return c.decrypt(in, true)
}

// Decrypt opens Encrypt output with the key's initial version (kms_decrypt).
// KeyID is required; Algorithm, Iv and PaddingMode say how it was made.
func (c *Client) Decrypt(in DecryptInput) (*DecryptOutput, error) {
	return c.decrypt(in, false)
}

func (c *Client) decrypt(in DecryptInput, advance bool) (*DecryptOutput, error) {
	var strs cstrings
	defer strs.free()
	keyID, err := strs.add(in.KeyID, "KeyId")
	if err != nil {
		return nil, err
	}
	alg, err := strs.add(in.Algorithm, "Algorithm")
	if err != nil {
		return nil, err
	}
	pad, err := strs.add(in.PaddingMode, "PaddingMode")
	if err != nil {
		return nil, err
	}
	blob, blobLen := bytesArg(in.CiphertextBlob)
	iv, ivLen := bytesArg(in.Iv)
	aad, aadLen := bytesArg(in.Aad)
	var resp *C.kms_decrypt_response
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		if advance {
			return C.kms_advance_decrypt(p, blob, blobLen, keyID, alg, iv, ivLen, aad, aadLen, pad, &resp, e)
		}
		return C.kms_decrypt(p, blob, blobLen, keyID, alg, iv, ivLen, aad, aadLen, pad, &resp, e)
	})
	runtime.KeepAlive(in.CiphertextBlob)
	runtime.KeepAlive(in.Iv)
	runtime.KeepAlive(in.Aad)
	if err != nil {
		return nil, err
	}
	// kms_decrypt_response_free wipes the library's plaintext.
	defer C.kms_decrypt_response_free(resp)
	plaintext := goBytes(resp.plaintext, resp.plaintext_len)
	if plaintext == nil {
		plaintext = []byte{}
	}
	return &DecryptOutput{
		Plaintext:    plaintext,
		KeyID:        C.GoString(resp.key_id),
		KeyVersionID: C.GoString(resp.key_version_id),
		Algorithm:    C.GoString(resp.algorithm),
		PaddingMode:  C.GoString(resp.padding_mode),
		RequestID:    C.GoString(resp.request_id),
	}, nil
}

// ---------------------------------------------------------------------------
// Data keys

// GenerateDataKeyInput are the parameters of GenerateDataKey and
// AdvanceGenerateDataKey.
type GenerateDataKeyInput struct {
	// KeyID is a KeyId or an alias. Required.
	KeyID string
	// NumberOfBytes is the data key's length, 1 to 1024; 0 means 32.
	NumberOfBytes uint32
	// Aad is authenticated with the encrypted data key; give it again to decrypt.
	Aad []byte
}

// DataKeyOutput is what GenerateDataKey and AdvanceGenerateDataKey return
// (kms_data_key_response).
type DataKeyOutput struct {
	// Plaintext is the data key, a Go copy owned by the caller (the library
	// wiped its own). Encrypt with it, then Wipe it.
	Plaintext []byte
	// CiphertextBlob is the data key encrypted with AES_GCM. Advance: the
	// self-describing blob (open with AdvanceDecrypt); plain: ciphertext || tag
	// (open with Decrypt given KeyID, "AES_GCM", Iv and Aad).
	CiphertextBlob []byte
	KeyID          string
	// KeyVersionID is the version that encrypted the data key.
	KeyVersionID string
	// Algorithm is "AES_GCM".
	Algorithm string
	// Iv is the 12-byte IV.
	Iv        []byte
	RequestID string
}

// AdvanceGenerateDataKey returns a fresh data key, in plaintext and encrypted
// with the key's primary version into a self-describing blob
// (kms_advance_generate_data_key).
func (c *Client) AdvanceGenerateDataKey(in GenerateDataKeyInput) (*DataKeyOutput, error) {
	return c.generateDataKey(in, true)
}

// GenerateDataKey returns a fresh data key, in plaintext and encrypted with the
// key's initial version as bare ciphertext || tag (kms_generate_data_key).
func (c *Client) GenerateDataKey(in GenerateDataKeyInput) (*DataKeyOutput, error) {
	return c.generateDataKey(in, false)
}

func (c *Client) generateDataKey(in GenerateDataKeyInput, advance bool) (*DataKeyOutput, error) {
	var strs cstrings
	defer strs.free()
	keyID, err := strs.add(in.KeyID, "KeyId")
	if err != nil {
		return nil, err
	}
	aad, aadLen := bytesArg(in.Aad)
	var resp *C.kms_data_key_response
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		if advance {
			return C.kms_advance_generate_data_key(p, keyID, C.uint32_t(in.NumberOfBytes), aad, aadLen, &resp, e)
		}
		return C.kms_generate_data_key(p, keyID, C.uint32_t(in.NumberOfBytes), aad, aadLen, &resp, e)
	})
	runtime.KeepAlive(in.Aad)
	if err != nil {
		return nil, err
	}
	// kms_data_key_response_free wipes the library's copy of the data key.
	defer C.kms_data_key_response_free(resp)
	return &DataKeyOutput{
		Plaintext:      goBytes(resp.plaintext, resp.plaintext_len),
		CiphertextBlob: goBytes(resp.ciphertext_blob, resp.ciphertext_blob_len),
		KeyID:          C.GoString(resp.key_id),
		KeyVersionID:   C.GoString(resp.key_version_id),
		Algorithm:      C.GoString(resp.algorithm),
		Iv:             goBytes(resp.iv, resp.iv_len),
		RequestID:      C.GoString(resp.request_id),
	}, nil
}

// ---------------------------------------------------------------------------
// Versions and rotation

// RotateKey creates a key version with fresh material and makes it primary
// (CreateKeyVersion, kms_key_rotate); it returns the new KeyVersionId. Old
// versions keep decrypting; Encrypt keeps using the initial version.
func (c *Client) RotateKey(keyID string) (string, error) {
	var strs cstrings
	defer strs.free()
	id, err := strs.add(keyID, "KeyId")
	if err != nil {
		return "", err
	}
	var out *C.char
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.kms_key_rotate(p, id, &out, e)
	})
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// CreateKeyVersion is RotateKey under the service's name.
func (c *Client) CreateKeyVersion(keyID string) (string, error) {
	return c.RotateKey(keyID)
}

// UpdateRotationPolicy turns automatic rotation on or off
// (kms_update_rotation_policy). interval is "<n>d", "<n>h", "<n>m" or "<n>s",
// 7 to 365 days; "" keeps the key's earlier interval (required the first time
// rotation is enabled).
func (c *Client) UpdateRotationPolicy(keyID string, enable bool, interval string) error {
	var strs cstrings
	defer strs.free()
	id, err := strs.add(keyID, "KeyId")
	if err != nil {
		return err
	}
	iv, err := strs.add(interval, "RotationInterval")
	if err != nil {
		return err
	}
	return c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.kms_update_rotation_policy(p, id, cFlag(enable), iv, e)
	})
}

// ---------------------------------------------------------------------------
// Keys

// CreateKeyInput are the parameters of CreateKey
// (kms_create_key_with_options); the zero value is an Aliyun_AES_256
// ENCRYPT/DECRYPT key of origin Aliyun_KMS with a fresh KeyId that permits
// AES_GCM only. Every field left at its zero value is passed as NULL, the
// library's default.
type CreateKeyInput struct {
	// KeySpec: "" (Aliyun_AES_256), "Aliyun_AES_192", "Aliyun_AES_128",
	// "Aliyun_SM4", or the asymmetric "RSA_2048", "RSA_3072", "RSA_4096",
	// "EC_P256", "EC_P256K".
	KeySpec string
	// KeyUsage: "" (ENCRYPT/DECRYPT for AES, SM4 and RSA, SIGN/VERIFY for EC).
	KeyUsage string
	// Origin: "" (Aliyun_KMS) or "EXTERNAL" (PendingImport until
	// ImportKeyMaterial or ImportKeyVersion).
	Origin string
	// Description: up to 8192 characters.
	Description string
	// KeyID: "" for a fresh KeyId; else the KeyId of the cloud key this key
	// mirrors (EXTERNAL keys only): 1 to 64 of [A-Za-z0-9-], e.g. a UUID.
	KeyID string
	// Algorithms: nil (or empty) for the GCM of the spec only ("AES_GCM",
	// "SM4_GCM"); else the algorithms the key permits, e.g.
	// []string{"AES_GCM", "AES_CBC", "AES_ECB"} (passed as the comma list
	// "AES_GCM,AES_CBC,AES_ECB"). A key refuses every other algorithm with
	// Rejected.UnsupportedOperation. CBC and ECB have no integrity: allow them
	// only for legacy ciphertext.
	Algorithms []string
}

// CreateKey creates a key and returns its KeyId (kms_create_key_with_options).
func (c *Client) CreateKey(in CreateKeyInput) (string, error) {
	var strs cstrings
	defer strs.free()
	// Go memory passed to C, so it holds only C pointers (the strings below).
	var copts C.kms_create_key_options
	var err error
	if copts.key_spec, err = strs.add(in.KeySpec, "KeySpec"); err != nil {
		return "", err
	}
	if copts.key_usage, err = strs.add(in.KeyUsage, "KeyUsage"); err != nil {
		return "", err
	}
	if copts.origin, err = strs.add(in.Origin, "Origin"); err != nil {
		return "", err
	}
	if copts.description, err = strs.add(in.Description, "Description"); err != nil {
		return "", err
	}
	if copts.key_id, err = strs.add(in.KeyID, "KeyId"); err != nil {
		return "", err
	}
	if copts.algorithms, err = strs.add(strings.Join(in.Algorithms, ","), "Algorithms"); err != nil {
		return "", err
	}
	var out *C.char
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.kms_create_key_with_options(p, &copts, &out, e)
	})
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// ImportKeyMaterial gives an EXTERNAL key its plain material (32, 24 or 16
// bytes for Aliyun_AES_256, _192, _128; 16 for Aliyun_SM4) and makes it Enabled
// (kms_import_key_material). expires is the zero time for never, else a future
// time after which the key is PendingImport until the same material is imported
// again. The library reads material during the call only; wipe it yourself.
func (c *Client) ImportKeyMaterial(keyID string, material []byte, expires time.Time) error {
	var strs cstrings
	defer strs.free()
	id, err := strs.add(keyID, "KeyId")
	if err != nil {
		return err
	}
	km, kmLen := bytesArg(material)
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.kms_import_key_material(p, id, km, kmLen, C.int64_t(expireUnix(expires)), e)
	})
	runtime.KeepAlive(material)
	return err
}

// ImportKeyVersion imports material into the EXTERNAL key keyID as the version
// named keyVersionID (kms_import_key_version): any 36 printable ASCII
// characters, such as the KeyVersionId of the cloud key being mirrored, so that
// ciphertext the cloud made under that version opens here; "" for a fresh one.
// The first version imported is the key's initial version (Encrypt's); each
// later one becomes primary (AdvanceEncrypt's). The same id with the same
// material again is accepted; with other material it is InvalidKeyMaterial.
// expires (the zero time for never) applies to the whole key. The library reads
// material during the call only; wipe it yourself.
func (c *Client) ImportKeyVersion(keyID, keyVersionID string, material []byte, expires time.Time) error {
	var strs cstrings
	defer strs.free()
	id, err := strs.add(keyID, "KeyId")
	if err != nil {
		return err
	}
	version, err := strs.add(keyVersionID, "KeyVersionId")
	if err != nil {
		return err
	}
	km, kmLen := bytesArg(material)
	err = c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status {
		return C.kms_import_key_version(p, id, version, km, kmLen, C.int64_t(expireUnix(expires)), e)
	})
	runtime.KeepAlive(material)
	return err
}

// expireUnix is an expiry as the library takes it: 0 for the zero time (never).
func expireUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// EnableKey makes a Disabled key Enabled (kms_enable_key).
func (c *Client) EnableKey(keyID string) error {
	return c.keyCall(keyID, func(p *C.kms_client, id *C.char, e *C.kms_error) C.kms_status {
		return C.kms_enable_key(p, id, e)
	})
}

// DisableKey makes an Enabled key Disabled (kms_disable_key): it then neither
// encrypts nor decrypts and does not rotate automatically.
func (c *Client) DisableKey(keyID string) error {
	return c.keyCall(keyID, func(p *C.kms_client, id *C.char, e *C.kms_error) C.kms_status {
		return C.kms_disable_key(p, id, e)
	})
}

// ScheduleKeyDeletion makes the key PendingDeletion; it is deleted with its
// versions and aliases once pendingWindowInDays (7 to 366) have passed
// (kms_schedule_key_deletion).
func (c *Client) ScheduleKeyDeletion(keyID string, pendingWindowInDays int) error {
	if pendingWindowInDays < -1<<31 || pendingWindowInDays > 1<<31-1 {
		pendingWindowInDays = -1 // out of int32: let the library refuse it
	}
	return c.keyCall(keyID, func(p *C.kms_client, id *C.char, e *C.kms_error) C.kms_status {
		return C.kms_schedule_key_deletion(p, id, C.int32_t(pendingWindowInDays), e)
	})
}

// CancelKeyDeletion returns a PendingDeletion key to Enabled (or PendingImport)
// (kms_cancel_key_deletion).
func (c *Client) CancelKeyDeletion(keyID string) error {
	return c.keyCall(keyID, func(p *C.kms_client, id *C.char, e *C.kms_error) C.kms_status {
		return C.kms_cancel_key_deletion(p, id, e)
	})
}

func (c *Client) keyCall(keyID string, f func(*C.kms_client, *C.char, *C.kms_error) C.kms_status) error {
	var strs cstrings
	defer strs.free()
	id, err := strs.add(keyID, "KeyId")
	if err != nil {
		return err
	}
	return c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status { return f(p, id, e) })
}

// ---------------------------------------------------------------------------
// Aliases

// CreateAlias makes aliasName ("alias/...") name the key keyID
// (kms_create_alias). Aliases are accepted wherever a KeyId is.
func (c *Client) CreateAlias(aliasName, keyID string) error {
	return c.aliasCall(aliasName, keyID, func(p *C.kms_client, a, k *C.char, e *C.kms_error) C.kms_status {
		return C.kms_create_alias(p, a, k, e)
	})
}

// UpdateAlias makes an existing alias name another key (kms_update_alias).
func (c *Client) UpdateAlias(aliasName, keyID string) error {
	return c.aliasCall(aliasName, keyID, func(p *C.kms_client, a, k *C.char, e *C.kms_error) C.kms_status {
		return C.kms_update_alias(p, a, k, e)
	})
}

// DeleteAlias deletes an alias (kms_delete_alias).
func (c *Client) DeleteAlias(aliasName string) error {
	return c.aliasCall(aliasName, "", func(p *C.kms_client, a, _ *C.char, e *C.kms_error) C.kms_status {
		return C.kms_delete_alias(p, a, e)
	})
}

func (c *Client) aliasCall(aliasName, keyID string, f func(*C.kms_client, *C.char, *C.char, *C.kms_error) C.kms_status) error {
	var strs cstrings
	defer strs.free()
	a, err := strs.add(aliasName, "AliasName")
	if err != nil {
		return err
	}
	k, err := strs.add(keyID, "KeyId")
	if err != nil {
		return err
	}
	return c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status { return f(p, a, k, e) })
}

// ---------------------------------------------------------------------------
// Documents

// KeyMetadata is DescribeKey's KeyMetadata. Dates the document leaves out (no
// automatic rotation, not pending deletion, material that never expires) are
// the zero time.
type KeyMetadata struct {
	KeyID             string    `json:"KeyId"`
	KeyState          string    `json:"KeyState"` // Enabled, Disabled, PendingDeletion, PendingImport
	KeySpec           string    `json:"KeySpec"`
	KeyUsage          string    `json:"KeyUsage"`
	Origin            string    `json:"Origin"`
	ProtectionLevel   string    `json:"ProtectionLevel"`
	Description       string    `json:"Description"`
	CreationDate      time.Time `json:"CreationDate"`
	PrimaryKeyVersion string    `json:"PrimaryKeyVersion"`
	LastRotationDate  time.Time `json:"LastRotationDate"`
	AutomaticRotation string    `json:"AutomaticRotation"`
	// RotationInterval is the service's spelling, seconds with "s" ("604800s");
	// see RotationPeriod.
	RotationInterval   string    `json:"RotationInterval,omitempty"`
	NextRotationDate   time.Time `json:"NextRotationDate"`
	DeleteDate         time.Time `json:"DeleteDate"`
	MaterialExpireTime time.Time `json:"MaterialExpireTime"`
}

// RotationPeriod is RotationInterval as a Duration; false when there is none.
func (m *KeyMetadata) RotationPeriod() (time.Duration, bool) {
	s := strings.TrimSuffix(m.RotationInterval, "s")
	if s == m.RotationInterval || s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// DescribeKeyOutput is DescribeKey's document, parsed, and the JSON itself.
type DescribeKeyOutput struct {
	KeyMetadata KeyMetadata `json:"KeyMetadata"`
	RequestID   string      `json:"RequestId"`
	// JSON is the document as the library returned it.
	JSON string `json:"-"`
}

// KeyVersion is one entry of ListKeyVersions.
type KeyVersion struct {
	KeyID        string    `json:"KeyId"`
	KeyVersionID string    `json:"KeyVersionId"`
	CreationDate time.Time `json:"CreationDate"`
}

// Alias is one entry of ListAliases.
type Alias struct {
	AliasName string `json:"AliasName"`
	KeyID     string `json:"KeyId"`
}

// Page is the paging part of the list documents (always one page).
type Page struct {
	TotalCount int    `json:"TotalCount"`
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	RequestID  string `json:"RequestId"`
}

// ListKeysOutput is ListKeys' document, parsed, and the JSON itself.
type ListKeysOutput struct {
	// KeyIDs are the keys, oldest first.
	KeyIDs []string
	Page
	JSON string
}

// ListKeyVersionsOutput is ListKeyVersions' document, parsed, and the JSON itself.
type ListKeyVersionsOutput struct {
	// KeyVersions start with the initial version.
	KeyVersions []KeyVersion
	Page
	JSON string
}

// ListAliasesOutput is ListAliases' document, parsed, and the JSON itself.
type ListAliasesOutput struct {
	// Aliases are sorted by name.
	Aliases []Alias
	Page
	JSON string
}

// DescribeKey returns the key's metadata (kms_describe_key).
func (c *Client) DescribeKey(keyID string) (*DescribeKeyOutput, error) {
	doc, err := c.DescribeKeyJSON(keyID)
	if err != nil {
		return nil, err
	}
	out := &DescribeKeyOutput{JSON: doc}
	if err := json.Unmarshal([]byte(doc), out); err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeKeyJSON returns DescribeKey's document as JSON:
// {"KeyMetadata": {...}, "RequestId": "..."}.
func (c *Client) DescribeKeyJSON(keyID string) (string, error) {
	return c.jsonCall(keyID, true, func(p *C.kms_client, id *C.char, out **C.char, e *C.kms_error) C.kms_status {
		return C.kms_describe_key(p, id, out, e)
	})
}

// ListKeys lists every key (kms_list_keys).
func (c *Client) ListKeys() (*ListKeysOutput, error) {
	doc, err := c.ListKeysJSON()
	if err != nil {
		return nil, err
	}
	var raw struct {
		Keys struct {
			Key []struct {
				KeyID string `json:"KeyId"`
			} `json:"Key"`
		} `json:"Keys"`
		Page
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, err
	}
	out := &ListKeysOutput{KeyIDs: []string{}, Page: raw.Page, JSON: doc}
	for _, k := range raw.Keys.Key {
		out.KeyIDs = append(out.KeyIDs, k.KeyID)
	}
	return out, nil
}

// ListKeysJSON returns ListKeys' document as JSON:
// {"Keys": {"Key": [{"KeyId": ...}]}, "TotalCount", "PageNumber", "PageSize", "RequestId"}.
func (c *Client) ListKeysJSON() (string, error) {
	return c.jsonCall("", false, func(p *C.kms_client, _ *C.char, out **C.char, e *C.kms_error) C.kms_status {
		return C.kms_list_keys(p, out, e)
	})
}

// ListKeyVersions lists the key's versions (kms_list_key_versions).
func (c *Client) ListKeyVersions(keyID string) (*ListKeyVersionsOutput, error) {
	doc, err := c.ListKeyVersionsJSON(keyID)
	if err != nil {
		return nil, err
	}
	var raw struct {
		KeyVersions struct {
			KeyVersion []KeyVersion `json:"KeyVersion"`
		} `json:"KeyVersions"`
		Page
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, err
	}
	out := &ListKeyVersionsOutput{KeyVersions: raw.KeyVersions.KeyVersion, Page: raw.Page, JSON: doc}
	if out.KeyVersions == nil {
		out.KeyVersions = []KeyVersion{}
	}
	return out, nil
}

// ListKeyVersionsJSON returns ListKeyVersions' document as JSON:
// {"KeyVersions": {"KeyVersion": [{"KeyId", "KeyVersionId", "CreationDate"}]}, "TotalCount", ...}.
func (c *Client) ListKeyVersionsJSON(keyID string) (string, error) {
	return c.jsonCall(keyID, true, func(p *C.kms_client, id *C.char, out **C.char, e *C.kms_error) C.kms_status {
		return C.kms_list_key_versions(p, id, out, e)
	})
}

// ListAliases lists every alias (kms_list_aliases).
func (c *Client) ListAliases() (*ListAliasesOutput, error) {
	doc, err := c.ListAliasesJSON()
	if err != nil {
		return nil, err
	}
	var raw struct {
		Aliases struct {
			Alias []Alias `json:"Alias"`
		} `json:"Aliases"`
		Page
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, err
	}
	out := &ListAliasesOutput{Aliases: raw.Aliases.Alias, Page: raw.Page, JSON: doc}
	if out.Aliases == nil {
		out.Aliases = []Alias{}
	}
	return out, nil
}

// ListAliasesJSON returns ListAliases' document as JSON:
// {"Aliases": {"Alias": [{"AliasName", "KeyId"}]}, "TotalCount", ...}.
func (c *Client) ListAliasesJSON() (string, error) {
	return c.jsonCall("", false, func(p *C.kms_client, _ *C.char, out **C.char, e *C.kms_error) C.kms_status {
		return C.kms_list_aliases(p, out, e)
	})
}

func (c *Client) jsonCall(keyID string, withKey bool, f func(*C.kms_client, *C.char, **C.char, *C.kms_error) C.kms_status) (string, error) {
	var strs cstrings
	defer strs.free()
	var id *C.char
	if withKey {
		var err error
		if id, err = strs.add(keyID, "KeyId"); err != nil {
			return "", err
		}
	}
	var out *C.char
	err := c.call(func(p *C.kms_client, e *C.kms_error) C.kms_status { return f(p, id, &out, e) })
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// ---------------------------------------------------------------------------
// Helpers for the C boundary

// cstrings collects the C strings of one call, freed together afterwards.
type cstrings struct {
	ptrs []unsafe.Pointer
}

// add returns a C copy of s, or NULL for "" (the library's default for an
// optional string, MissingParameter for a required one). A NUL byte inside s is
// InvalidParameter: a C string would silently cut it there.
func (s *cstrings) add(v, param string) (*C.char, error) {
	if v == "" {
		return nil, nil
	}
	if strings.IndexByte(v, 0) >= 0 {
		return nil, nulError(param)
	}
	p := C.CString(v)
	s.ptrs = append(s.ptrs, unsafe.Pointer(p))
	return p, nil
}

func (s *cstrings) free() {
	for _, p := range s.ptrs {
		C.free(p)
	}
	s.ptrs = nil
}

// bytesArg passes a Go byte slice to C for the duration of one call: a pointer
// to its first element (Go memory holding no Go pointers, which cgo allows as
// long as C keeps no copy of the pointer; the library copies what it keeps), or
// (NULL, 0) for an empty slice.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// goBytes copies n bytes of library memory into a new Go slice (C.GoBytes
// without its int32 length limit); nil for n == 0.
func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	out := make([]byte, int(n))
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	return out
}

// takeString copies a library string and frees it with kms_string_free.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.kms_string_free(p)
	return C.GoString(p)
}
