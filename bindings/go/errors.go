package localkms

/*
#include <stdlib.h>
#include "localkms.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Status is the library's kms_status: 0 for success or one of the service's
// error codes. The numbers are permanent and grouped by class (1xx bad request,
// 2xx not found, 3xx key state, 4xx key store, 5xx internal).
type Status uint32

// The statuses of include/localkms.h. They are taken from the header at build
// time, so they cannot drift from it; the numbers are given in the comments.
const (
	StatusOK                        Status = C.KMS_STATUS_OK                           // 0
	StatusInvalidParameter          Status = C.KMS_STATUS_INVALID_PARAMETER            // 100, InvalidParameter, 400
	StatusMissingParameter          Status = C.KMS_STATUS_MISSING_PARAMETER            // 101, MissingParameter, 400
	StatusUnsupportedOperation      Status = C.KMS_STATUS_UNSUPPORTED_OPERATION        // 102, Rejected.UnsupportedOperation, 400
	StatusAliasAlreadyExists        Status = C.KMS_STATUS_ALIAS_ALREADY_EXISTS         // 103, AliasAlreadyExists, 400
	StatusInvalidKeyMaterial        Status = C.KMS_STATUS_INVALID_KEY_MATERIAL         // 104, InvalidKeyMaterial, 400
	StatusInvalidCiphertext         Status = C.KMS_STATUS_INVALID_CIPHERTEXT           // 105, InvalidCiphertext, 400
	StatusKeyNotFound               Status = C.KMS_STATUS_KEY_NOT_FOUND                // 200, Forbidden.KeyNotFound, 404
	StatusAliasNotFound             Status = C.KMS_STATUS_ALIAS_NOT_FOUND              // 201, Forbidden.AliasNotFound, 404
	StatusOnlySymmetricKeySupported Status = C.KMS_STATUS_ONLY_SYMMETRIC_KEY_SUPPORTED // 202, Forbidden.OnlySymmetricKeySupported, 404
	StatusKeyDisabled               Status = C.KMS_STATUS_KEY_DISABLED                 // 300, Rejected.Disabled, 409
	StatusKeyPendingDeletion        Status = C.KMS_STATUS_KEY_PENDING_DELETION         // 301, Rejected.PendingDeletion, 409
	StatusKeyPendingImport          Status = C.KMS_STATUS_KEY_PENDING_IMPORT           // 302, Rejected.PendingImport, 409
	StatusKeyStoreIO                Status = C.KMS_STATUS_KEYSTORE_IO                  // 400, KeyStore.IOError, 500
	StatusKeyStoreCorrupt           Status = C.KMS_STATUS_KEYSTORE_CORRUPT             // 401, KeyStore.Corrupted, 500
	StatusKeyStoreAccessDenied      Status = C.KMS_STATUS_KEYSTORE_ACCESS_DENIED       // 402, KeyStore.AccessDenied, 403
	StatusInternalFailure           Status = C.KMS_STATUS_INTERNAL_FAILURE             // 500, InternalFailure, 500
)

// Code is the service's code string for the status (kms_status_code), e.g.
// "Forbidden.KeyNotFound"; "OK" for StatusOK and "Unknown" for a number that is
// no status.
func (s Status) Code() string {
	return C.GoString(C.kms_status_code(C.uint32_t(s)))
}

// HTTPStatus is the service's HTTP status for the status
// (kms_status_http_status): 200 for StatusOK, 0 for a number that is no status.
func (s Status) HTTPStatus() int {
	return int(C.kms_status_http_status(C.uint32_t(s)))
}

// String returns the code string and the number, e.g. "Forbidden.KeyNotFound (200)".
func (s Status) String() string {
	return fmt.Sprintf("%s (%d)", s.Code(), uint32(s))
}

// Error is what a failed call returns: the library's kms_error. Get at it with
// errors.As:
//
//	var kerr *localkms.Error
//	if errors.As(err, &kerr) && kerr.Status == localkms.StatusKeyNotFound { ... }
type Error struct {
	// Status is the kms_status the call returned (never StatusOK).
	Status Status
	// Code is the service's code, e.g. "Forbidden.KeyNotFound".
	Code string
	// HTTPStatus is the service's HTTP status for Code (400, 403, 404, 409, 500).
	HTTPStatus int
	// Message names the offending parameter or key. It never contains key bytes.
	Message string
	// RequestID is the RequestId (a UUID) of the failed call. It is empty for
	// errors the Go wrapper raises itself before calling the library (a string
	// argument holding a NUL byte).
	RequestID string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("localkms: %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
	if e.RequestID != "" {
		s += " [RequestId " + e.RequestID + "]"
	}
	return s
}

// Is makes errors.Is(err, &localkms.Error{Status: localkms.StatusKeyDisabled})
// true for every *Error with that status, whatever its other fields.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Status == e.Status
}

// ErrClosed is returned by every method of a Client after Close.
var ErrClosed = errors.New("localkms: client is closed")

// StatusOf returns the Status of an *Error anywhere in err's chain, StatusOK for
// a nil err, and StatusInternalFailure for any other error (such as ErrClosed).
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var kerr *Error
	if errors.As(err, &kerr) {
		return kerr.Status
	}
	return StatusInternalFailure
}

// IsNotFound reports whether err is Forbidden.KeyNotFound or Forbidden.AliasNotFound.
func IsNotFound(err error) bool {
	s := StatusOf(err)
	return err != nil && (s == StatusKeyNotFound || s == StatusAliasNotFound)
}

// IsInvalidCiphertext reports whether err is InvalidCiphertext: every way a
// ciphertext can fail to decrypt (parse, length, tag, padding, wrong Aad).
func IsInvalidCiphertext(err error) bool {
	return err != nil && StatusOf(err) == StatusInvalidCiphertext
}

// IsBadRequest reports whether err is one of the 1xx statuses (HTTP 400): the
// caller's arguments are wrong, retrying the same call cannot help.
func IsBadRequest(err error) bool {
	s := StatusOf(err)
	return err != nil && s >= 100 && s < 200
}

// IsKeyState reports whether err is Rejected.Disabled, Rejected.PendingDeletion
// or Rejected.PendingImport (HTTP 409): the key exists but its state forbids the
// operation.
func IsKeyState(err error) bool {
	s := StatusOf(err)
	return err != nil && s >= 300 && s < 400
}

// newError converts a filled kms_error into an *Error.
func newError(status C.kms_status, cerr *C.kms_error) *Error {
	e := &Error{
		Status:     Status(status),
		Code:       C.GoString(&cerr.code[0]),
		HTTPStatus: int(cerr.http_status),
		Message:    C.GoString(&cerr.message[0]),
		RequestID:  C.GoString(&cerr.request_id[0]),
	}
	// The library always fills the error; should it ever not, derive what can be.
	if e.Code == "" {
		e.Code = e.Status.Code()
	}
	if e.HTTPStatus == 0 {
		e.HTTPStatus = e.Status.HTTPStatus()
	}
	return e
}

// nulError is the InvalidParameter the wrapper raises for a Go string holding a
// NUL byte, which a C string cannot carry.
func nulError(param string) *Error {
	return &Error{
		Status:     StatusInvalidParameter,
		Code:       StatusInvalidParameter.Code(),
		HTTPStatus: StatusInvalidParameter.HTTPStatus(),
		Message:    fmt.Sprintf("The specified parameter %q is not valid. It contains a NUL byte.", param),
	}
}
