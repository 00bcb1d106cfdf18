package ews

import (
	"context"
	"time"
)

// Test hooks for the package's external tests.

// SetEWSRetryWait replaces the wait between retries of m.
func SetEWSRetryWait(m *EWSMailbox, wait func(ctx context.Context, d time.Duration) error) {
	m.retry.wait = wait
}

// SetGraphRetryWait replaces the wait between retries of m.
func SetGraphRetryWait(m *GraphMailbox, wait func(ctx context.Context, d time.Duration) error) {
	m.retry.wait = wait
}
