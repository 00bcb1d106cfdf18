package observable

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"runtime"
	"testing"
)

// maxHeapGrowth is how much the heap may grow while a large attachment
// streams: a few buffers, whatever the attachment's size.
const maxHeapGrowth = 32 << 20

// TestLargeAttachmentPeakHeap streams a message with a 200 MiB attachment
// (32 MiB under the race detector),
// generated on the fly, through ParseEmail and an AttachmentFunc that
// reads the content, sampling the heap as it goes: the peak must stay
// small, and the size and hashes must be right.
func TestLargeAttachmentPeakHeap(t *testing.T) {
	// Not parallel: the test measures the heap of the whole process.
	size := int64(largeAttachmentSize)
	wantMD5, wantSHA := md5.New(), sha256.New()
	if err := largeContent(size, func(b []byte) error {
		wantMD5.Write(b)
		wantSHA.Write(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}

	var read int64
	e, err := ParseEmail(largeMessage(size), WithAttachmentFunc(func(a *Attachment, r io.Reader) error {
		buf := make([]byte, 64<<10)
		next := int64(0)
		for {
			n, err := r.Read(buf)
			read += int64(n)
			if read >= next {
				sample()
				next += 8 << 20
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	sample()

	if read != size {
		t.Errorf("the AttachmentFunc read %d bytes, want %d", read, size)
	}
	if len(e.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(e.Attachments))
	}
	a := e.Attachments[0]
	if a.Size != size || a.MD5 != hex.EncodeToString(wantMD5.Sum(nil)) || a.SHA256 != hex.EncodeToString(wantSHA.Sum(nil)) {
		t.Errorf("attachment %d bytes, md5 %s, sha256 %s: wrong", a.Size, a.MD5, a.SHA256)
	}
	growth := int64(peak) - int64(base)
	t.Logf("streamed %d MiB; heap grew by at most %.1f MiB", size>>20, float64(growth)/(1<<20))
	if growth > maxHeapGrowth {
		t.Errorf("the heap grew by %d bytes while streaming, more than %d", growth, maxHeapGrowth)
	}
}
