//go:build !race

package observable

// largeAttachmentSize is the size of the attachment streamed by
// TestLargeAttachmentPeakHeap.
const largeAttachmentSize = 200 << 20
