package ewstest

import "context"

// exchangeBackend is the conformance suite's Backend over an Exchange
// store, for the EWS and Graph fakes.
type exchangeBackend struct {
	x       *Exchange
	mailbox string
	drop    func()
}

// Backend returns a conformance [Backend] that seeds and inspects mailbox
// directly in the server's store, and whose DropConnections breaks the
// server's client connections.
func (s *EWSServer) Backend(mailbox string) Backend {
	return &exchangeBackend{x: s.Exchange, mailbox: mailbox, drop: s.CloseClientConnections}
}

func (b *exchangeBackend) Seed(ctx context.Context, folder string, msg SeedMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := b.x.AddMessage(b.mailbox, folder, ExchangeMessage{
		Raw:        msg.Raw,
		Received:   msg.Received,
		Read:       msg.Read,
		Categories: msg.Categories,
	})
	return err
}

func (b *exchangeBackend) Inspect(ctx context.Context, folder string) ([]StoredMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msgs, err := b.x.Messages(b.mailbox, folder)
	if err != nil {
		return nil, err
	}
	out := make([]StoredMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, StoredMessage{
			MessageID:  m.InternetMessageID,
			Subject:    m.Subject,
			Read:       m.Read,
			Categories: m.Categories,
		})
	}
	return out, nil
}

func (b *exchangeBackend) DropConnections() { b.drop() }
