package ews_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// Memory bounds for streaming a 50 MB message. A connector that held the
// message, or (for EWS) the 67 MB of its base64 text, would exceed both by
// far; streaming costs a few buffers.
const (
	maxLiveHeap  = 4 << 20 // live heap above the baseline, at any sample
	maxAllocated = 8 << 20 // everything allocated while streaming
)

// heapStats are the memory figures of one streamed message.
type heapStats struct {
	peakLive  uint64 // highest live heap above the baseline
	allocated uint64 // bytes allocated while opening and reading
}

func liveHeap() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// streamAndMeasure opens msg and reads it to the end, collecting garbage
// and sampling the live heap every 4 MiB, and returns the size and digest
// read with the memory figures. The baseline is taken after the server was
// seeded, so the stored copy does not count.
func streamAndMeasure(ctx context.Context, t *testing.T, mb ews.Mailbox, msg ews.Message) (int64, [sha256.Size]byte, heapStats) {
	t.Helper()
	base := liveHeap()
	rc, err := mb.Open(ctx, msg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	h := sha256.New()
	buf := make([]byte, 32<<10)
	var n, nextSample int64
	var st heapStats
	for {
		k, err := rc.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if n >= nextSample {
			nextSample += 4 << 20
			if ms := liveHeap(); ms.HeapAlloc > base.HeapAlloc {
				st.peakLive = max(st.peakLive, ms.HeapAlloc-base.HeapAlloc)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading after %d bytes: %v", n, err)
		}
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	st.allocated = liveHeap().TotalAlloc - base.TotalAlloc
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	return n, sum, st
}

// checkHeap fails when the figures exceed the bounds, and logs them.
func checkHeap(t *testing.T, st heapStats) {
	t.Helper()
	t.Logf("streaming %d MB: peak live heap +%.1f MiB, allocated %.1f MiB", ewstest.LargeMessageSize>>20,
		float64(st.peakLive)/(1<<20), float64(st.allocated)/(1<<20))
	if st.peakLive > maxLiveHeap {
		t.Errorf("live heap grew by %d bytes while streaming, want at most %d", st.peakLive, maxLiveHeap)
	}
	if st.allocated > maxAllocated {
		t.Errorf("streaming allocated %d bytes, want at most %d", st.allocated, maxAllocated)
	}
}

// TestEWSOpenLargeHeap streams a 50 MB message through the EWS connector
// and the fake (whose base64 answer is 67 MB) and measures the heap. It
// does not run in parallel, so that nothing else allocates meanwhile.
func TestEWSOpenLargeHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the 50 MB message in -short mode")
	}
	f := newEWSFixture(t, nil)
	checkOpenLargeHeap(t, f.mb, f.srv.Exchange, ewstest.EWSSharedMailbox)
}

// checkOpenLargeHeap seeds a 50 MB message in mailbox's inbox, streams it
// through mb, and checks the bytes and the heap.
func checkOpenLargeHeap(t *testing.T, mb ews.Mailbox, x *ewstest.Exchange, mailbox string) {
	t.Helper()
	wantLen, want := seedLarge(t, x, mailbox)
	ctx := t.Context()
	msgs := listAll(ctx, t, mb)
	n, sum, st := streamAndMeasure(ctx, t, mb, msgs[0])
	if n != wantLen || sum != want {
		t.Fatalf("streamed %d bytes with another digest, want %d bytes", n, wantLen)
	}
	checkHeap(t, st)
}

// seedLarge stores a 50 MB message in the inbox and returns its size and
// digest. The test's own copy is garbage once it returns.
func seedLarge(t *testing.T, x *ewstest.Exchange, mailbox string) (int64, [sha256.Size]byte) {
	t.Helper()
	raw := ewstest.LargeMessage("large@test", xchBase, ewstest.LargeMessageSize)
	if _, err := x.AddMessage(mailbox, "Inbox", ewstest.ExchangeMessage{Raw: raw, Received: xchBase}); err != nil {
		t.Fatal(err)
	}
	return int64(len(raw)), sha256.Sum256(raw)
}

// BenchmarkEWSOpen streams an 8 MB message from the fake EWS server, to
// follow the throughput and the allocations per message.
func BenchmarkEWSOpen(b *testing.B) {
	f := newEWSFixture(b, nil)
	benchmarkOpen(b, f.mb, f.srv.Exchange, ewstest.EWSSharedMailbox)
}

// benchmarkOpen streams an 8 MB message from mailbox's inbox through mb.
func benchmarkOpen(b *testing.B, mb ews.Mailbox, x *ewstest.Exchange, mailbox string) {
	raw := ewstest.LargeMessage("bench@test", xchBase, 8<<20)
	if _, err := x.AddMessage(mailbox, "Inbox", ewstest.ExchangeMessage{Raw: raw, Received: xchBase}); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	msgs := listAll(ctx, b, mb)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rc, err := mb.Open(ctx, msgs[0])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
