package localkms_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	localkms "localkms.dev/localkms/bindings/go"
)

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

// SetClock hands the library a Go function (through a cgo.Handle and an
// exported callback): its time reaches the library's documents and, as the one
// smoke test of that area here, automatic rotation. A panicking callback falls
// back to the system clock; nil restores it. The rotation schedule itself is
// tested in the Rust suite
// (tests/service_behaviour.rs: automatic_rotation_follows_the_clock).
func TestSetClock(t *testing.T) {
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
	if m.CreationDate.Unix() != start || !ok || period != 7*24*time.Hour || m.NextRotationDate.Unix() != start+7*day {
		t.Fatalf("after UpdateRotationPolicy: %+v", m)
	}
	now.Store(start + 8*day)
	out, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("day 8")})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyVersionID == m.PrimaryKeyVersion {
		t.Fatal("the Go clock's 8 days did not rotate the key")
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

// One client, many goroutines: 16 × 100 AdvanceEncrypt/AdvanceDecrypt through
// the binding (its argument copies, its pinning, its response frees) while
// another goroutine rotates the key, reads its documents and swaps the Go clock
// (cgo handles made and released under load), all under -race. Every blob
// decrypts afterwards with the version that made it. What rotation under
// concurrent use does to versions is the Rust suite's
// (tests/threads.rs).
func TestConcurrentUse(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	if err := c.CreateAlias("alias/concurrent", key); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 16, 100

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
			total++
		}
	}
	t.Logf("%d goroutines × %d rounds; %d rotations; %d blobs without Aad reopened", workers, rounds, rotations.Load(), total)
}
