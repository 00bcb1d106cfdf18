package ews

import (
	"context"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapPollInterval is how often WaitForMail asks a server without IDLE
// for news.
const imapPollInterval = 30 * time.Second

// WaitForMail blocks until a configured folder may have new mail, ctx is
// done, or [IMAPConfig.WaitTimeout] passed; a nil error means list again.
//
// It opens one connection per folder, outside the pool, and IDLEs on each
// (RFC 2177), or sends NOOP every 30 seconds to a server without IDLE. Mail
// that arrived after the last listing but before the wait began ends the
// wait at once, since UIDNEXT moved.
func (m *IMAPMailbox) WaitForMail(ctx context.Context) error {
	if err := m.ready(ctx); err != nil {
		return m.opErr("", "wait", err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	woke := make(chan error, len(m.cfg.Folders))
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for _, folder := range m.cfg.Folders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			woke <- m.waitFolder(waitCtx, folder)
		}()
	}
	timer := time.NewTimer(m.cfg.WaitTimeout)
	defer timer.Stop()
	select {
	case err := <-woke:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return m.opErr("", "wait", ctxErr)
		}
		return err
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return m.opErr("", "wait", ctx.Err())
	case <-m.closing:
		return m.opErr("", "wait", ErrClosed)
	}
}

// waitFolder waits on one folder until it sees new mail (nil), the server
// ends the wait (nil), or something fails.
func (m *IMAPMailbox) waitFolder(ctx context.Context, folder string) error {
	news := make(chan struct{}, 1)
	handler := &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case news <- struct{}{}:
				default:
				}
			}
		},
	}
	c, err := m.dial(ctx, handler)
	if err != nil {
		return err
	}
	defer logoutAndClose(c.c)
	stop := context.AfterFunc(ctx, c.kill)
	defer stop()
	if err := m.selectFolder(c, folder); err != nil {
		return m.opErr(folder, "select", err)
	}
	m.mu.Lock()
	seen := m.uidNext[folder]
	m.mu.Unlock()
	if seen != 0 && c.uidNext > seen {
		return nil
	}

	if !c.caps.Has(imap.CapIdle) && !c.caps.Has(imap.CapIMAP4rev2) {
		tick := time.NewTicker(imapPollInterval)
		defer tick.Stop()
		for {
			select {
			case <-news:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				if err := c.c.Noop().Wait(); err != nil {
					return m.opErr(folder, "noop", err)
				}
			}
		}
	}
	idle, err := c.c.Idle()
	if err != nil {
		return m.opErr(folder, "idle", err)
	}
	select {
	case <-news:
	case <-ctx.Done():
	case <-c.c.Closed():
	}
	if cerr := idle.Close(); cerr == nil {
		_ = idle.Wait()
	}
	return ctx.Err()
}
