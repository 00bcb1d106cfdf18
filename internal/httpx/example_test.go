package httpx_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// A client for one server: credentials added per attempt, GET retried after
// a 503, the answer decoded.
func Example() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"user":"%t"}`, r.Header.Get("Authorization") != "")
	}))
	defer srv.Close()

	key := httpx.NewSecret("an-api-key")
	c, err := httpx.New(httpx.Config{
		Name:    "example",
		BaseURL: srv.URL,
		Retry:   httpx.RetryPolicy{MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond},
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key.Reveal())
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	var out struct{ User string }
	if err := c.DoJSON(context.Background(), &httpx.Request{Method: http.MethodGet, Path: "/api/user"}, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("authenticated:", out.User, "after", calls.Load(), "attempts; key prints as", key)
	// Output: authenticated: true after 2 attempts; key prints as [REDACTED]
}
