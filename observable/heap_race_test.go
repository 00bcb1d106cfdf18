//go:build race

package observable

// largeAttachmentSize is the size of the attachment streamed by
// TestLargeAttachmentPeakHeap. The race detector slows the streaming path
// several times: stream 32 MiB, still far more than the heap may grow.
const largeAttachmentSize = 32 << 20
