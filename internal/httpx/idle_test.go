package httpx

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestCloseIdleConnections checks that closing the client's idle
// connections reaches the transport below the credentials layer.
func TestCloseIdleConnections(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	defer srv.Close()
	c, _ := newTestClient(t, srv, nil)
	resp, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "p"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle connection was not closed")
	}
}
