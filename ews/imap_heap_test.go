package ews_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// The heap tests run the IMAP server in another process, so that the heap
// measured here is the client's alone.
const helperEnv = "SYNAPSE_EWS_IMAP_HELPER_SIZE"

// TestIMAPHelperServer is not a test: run by the heap tests with
// SYNAPSE_EWS_IMAP_HELPER_SIZE set, it serves one message of that size and
// prints "address sha256 size" until its standard input closes.
func TestIMAPHelperServer(t *testing.T) {
	size, err := strconv.Atoi(os.Getenv(helperEnv))
	if err != nil {
		t.Skip("helper process for the heap tests")
	}
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddUser(testUser, testPassword); err != nil {
		t.Fatal(err)
	}
	raw := ewstest.LargeMessage("large@example.com", time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), size)
	if err := srv.Append(testUser, "Inbox", raw); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	fmt.Printf("%s %x %d\n", srv.Addr(), sum, len(raw))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startHelperServer starts TestIMAPHelperServer in a child process.
func startHelperServer(t testing.TB, size int) (addr string, sum []byte, n int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIMAPHelperServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(size))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the helper's address: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 {
		t.Fatalf("helper said %q", line)
	}
	sum, err = hex.DecodeString(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	n, err = strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return fields[0], sum, n
}

// streamMeasuringHeap reads the only message of mb and returns the highest
// heap growth seen while streaming, sampled every megabyte.
func streamMeasuringHeap(t *testing.T, mb ews.Mailbox, wantSum []byte, wantLen int64) uint64 {
	t.Helper()
	ctx := t.Context()
	var msg ews.Message
	for m, err := range mb.Messages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		msg = m
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc

	rc, err := mb.Open(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hash := sha256.New()
	buf := make([]byte, 32<<10)
	var n, next int64
	for {
		k, err := rc.Read(buf)
		hash.Write(buf[:k])
		n += int64(k)
		if n >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			next += 1 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("streaming: %v after %d bytes", err, n)
		}
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if n != wantLen || string(hash.Sum(nil)) != string(wantSum) {
		t.Fatalf("streamed %d bytes with sha256 %x, want %d bytes with sha256 %x", n, hash.Sum(nil), wantLen, wantSum)
	}
	return peak - base
}

// maxHeapGrowth is the most the heap may grow while a 50 MB message
// streams: a few read buffers and the garbage between two collections.
const maxHeapGrowth = 16 << 20

func TestIMAPStreamHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the 50 MB message in -short mode")
	}
	// Not parallel: other tests' allocations would show in the heap.
	addr, sum, n := startHelperServer(t, ewstest.LargeMessageSize)
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: addr, TLS: ews.TLSNone, Username: testUser, Password: testPassword,
		Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	growth := streamMeasuringHeap(t, mb, sum, n)
	t.Logf("streamed %d bytes; heap grew by at most %d bytes", n, growth)
	if growth > maxHeapGrowth {
		t.Errorf("heap grew by %d bytes while streaming %d bytes, want at most %d", growth, n, maxHeapGrowth)
	}
}

func TestIMAPDovecotStreamHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the 50 MB message in -short mode")
	}
	srv, users := startDovecot(t, 1)
	password := srv.Users()[users[0]]
	sum, n := func() ([]byte, int64) {
		raw := ewstest.LargeMessage("large@example.com", time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), ewstest.LargeMessageSize)
		backend := ewstest.NewIMAPBackend(srv.Addr, users[0], password, nil)
		if err := backend.Seed(t.Context(), "Inbox", ewstest.SeedMessage{Raw: raw}); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(raw)
		return s[:], int64(len(raw))
	}()
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: srv.Addr, TLS: ews.TLSNone, Username: users[0], Password: password,
		Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	growth := streamMeasuringHeap(t, mb, sum, n)
	t.Logf("streamed %d bytes from Dovecot; heap grew by at most %d bytes", n, growth)
	if growth > maxHeapGrowth {
		t.Errorf("heap grew by %d bytes while streaming %d bytes, want at most %d", growth, n, maxHeapGrowth)
	}
}

// BenchmarkIMAPOpen streams an 8 MB message from a server in another
// process; B/op and allocs/op are the client's alone.
func BenchmarkIMAPOpen(b *testing.B) {
	addr, _, n := startHelperServer(b, 8<<20)
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: addr, TLS: ews.TLSNone, Username: testUser, Password: testPassword,
		Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	ctx := b.Context()
	var msg ews.Message
	for m, err := range mb.Messages(ctx) {
		if err != nil {
			b.Fatal(err)
		}
		msg = m
	}
	buf := make([]byte, 32<<10)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		rc, err := mb.Open(ctx, msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
