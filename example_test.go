package synapse_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/synapse-go/synapse/observable"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// The pieces in a few lines: parse a reported email, extract its
// observables, and record them in a (here, fake) TheHive.
func Example() {
	raw := "From: Support <help@examp1e-login.com>\r\n" +
		"Subject: Reset your password\r\n" +
		"\r\n" +
		"Go to hxxps://examp1e-login[.]com/reset now.\r\n"
	email, err := observable.ParseEmail(strings.NewReader(raw))
	if err != nil {
		log.Fatal(err)
	}

	hive := thehivetest.New()
	if err := hive.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer hive.Close()
	th, err := thehive.NewClient(hive.URL(), thehive.WithAPIKey(thehivetest.APIKey))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	c, err := th.Cases.Create(ctx, &thehive.CaseCreate{Title: email.Subject, Description: "Reported by a user."})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range observable.Extract(email, observable.ExtractOptions{}) {
		if o.Type != observable.TypeURL {
			continue
		}
		if _, err := th.Observables.AddToCase(ctx, c.ID, &thehive.ObservableCreate{DataType: string(o.Type), Data: []string{o.Value}, Tags: o.Tags}); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("case #%d %q: %s %s %v\n", c.Number, c.Title, o.Type, o.Value, o.Tags)
	}
	// Output: case #1 "Reset your password": url https://examp1e-login.com/reset [src:body defanged]
}
