package localkms

// This file holds the //export'ed clock callback. A file with an //export may only
// declare (not define) C functions in its preamble, so the C side of SetClock
// lives in localkms.go.

/*
#include <stdint.h>
#include "localkms.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync/atomic"
	"time"
	"unsafe"
)

// clockState is the Go side of a client's clock. The library gets a pointer to a
// C-allocated slot (never to Go memory) that holds the cgo.Handle of this state;
// the state holds the caller's function. It does not refer to the Client, so a
// forgotten Client can still be collected (and closed by its finalizer).
type clockState struct {
	fn atomic.Pointer[func() int64]
}

// now calls the caller's clock; with none (after SetClock(nil), for a call that
// had already picked up the callback) or if it panics, it is the system clock.
// A panic must not unwind through the library's (Rust) frames.
func (s *clockState) now() (t int64) {
	fn := s.fn.Load()
	if fn == nil {
		return time.Now().Unix()
	}
	defer func() {
		if recover() != nil {
			t = time.Now().Unix()
		}
	}()
	return (*fn)()
}

// localkmsGoClock is the kms_clock_fn the library calls. context points to the
// C-allocated slot that holds the cgo.Handle of the client's clockState.
//
//export localkmsGoClock
func localkmsGoClock(context unsafe.Pointer) C.int64_t {
	h := cgo.Handle(*(*C.uintptr_t)(context))
	return C.int64_t(h.Value().(*clockState).now())
}
