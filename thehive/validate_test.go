package thehive_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/thehive"
)

// TestInvalidParams checks that bad input is refused before any request.
func TestInvalidParams(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t)
	c := newClient(t, ps.URL+basePath)
	bad := thehive.TLP(5)
	tests := map[string]func(context.Context) error{
		"case nil": func(ctx context.Context) error { return drop(c.Cases.Create(ctx, nil)) },
		"case no title": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Description: "d"}))
		},
		"case no desc": func(ctx context.Context) error { return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t"})) },
		"case severity": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", Severity: 5}))
		},
		"case tlp": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", TLP: &bad}))
		},
		"case pap": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", PAP: thehive.Ptr(thehive.PAP(4))}))
		},
		"case custom field": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", CustomFields: thehive.CustomFields{"": 1}}))
		},
		"case bad task": func(ctx context.Context) error {
			return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", Tasks: []thehive.TaskCreate{{}}}))
		},
		"case empty id":  func(ctx context.Context) error { return drop(c.Cases.Get(ctx, "")) },
		"update nothing": func(ctx context.Context) error { return c.Cases.Update(ctx, "~1", &thehive.CaseUpdate{}) },
		"update nil":     func(ctx context.Context) error { return c.Cases.Update(ctx, "~1", nil) },
		"update severity": func(ctx context.Context) error {
			return c.Cases.Update(ctx, "~1", &thehive.CaseUpdate{Severity: thehive.Ptr(thehive.Severity(0))})
		},
		"update blank title": func(ctx context.Context) error {
			return c.Cases.Update(ctx, "~1", &thehive.CaseUpdate{Title: thehive.Ptr(" ")})
		},
		"remove unknown": func(ctx context.Context) error {
			return c.Cases.Update(ctx, "~1", &thehive.CaseUpdate{Remove: []string{"colour"}})
		},
		"set and remove": func(ctx context.Context) error {
			return c.Cases.Update(ctx, "~1", &thehive.CaseUpdate{Summary: thehive.Ptr("s"), Remove: []string{"summary"}})
		},
		"assign empty":    func(ctx context.Context) error { return c.Cases.Assign(ctx, "~1", " ") },
		"close no status": func(ctx context.Context) error { return c.Cases.Close(ctx, "~1", thehive.CaseClose{}) },
		"close New": func(ctx context.Context) error {
			return c.Cases.Close(ctx, "~1", thehive.CaseClose{Status: thehive.CaseStatusNew})
		},
		"merge one":     func(ctx context.Context) error { return drop(c.Cases.Merge(ctx, []thehive.CaseID{"~1"})) },
		"merge comma":   func(ctx context.Context) error { return drop(c.Cases.Merge(ctx, []thehive.CaseID{"~1", "~2,~3"})) },
		"find negative": func(ctx context.Context) error { return drop(c.Cases.Find(ctx, &thehive.Query{Limit: -1})) },
		"find empty sort": func(ctx context.Context) error {
			return drop(c.Cases.Find(ctx, &thehive.Query{Sort: []thehive.Sort{{}}}))
		},
		"find tasks no id":  func(ctx context.Context) error { return drop(c.Cases.FindTasks(ctx, "", nil)) },
		"find obs no id":    func(ctx context.Context) error { return drop(c.Cases.FindObservables(ctx, "", nil)) },
		"find alerts no id": func(ctx context.Context) error { return drop(c.Cases.FindAlerts(ctx, "", nil)) },
		"find cf no name":   func(ctx context.Context) error { return drop(c.Cases.FindByCustomField(ctx, "", "x")) },
		"alert missing": func(ctx context.Context) error {
			return drop(c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "a", Source: "b", Title: "t", Description: "d"}))
		},
		"alert nil": func(ctx context.Context) error { return drop(c.Alerts.Create(ctx, nil)) },
		"alert bad obs": func(ctx context.Context) error {
			return drop(c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "a", Source: "b", SourceRef: "c", Title: "t", Description: "d",
				Observables: []thehive.ObservableCreate{{DataType: "ip"}}}))
		},
		"alert lookup": func(ctx context.Context) error { return drop(c.Alerts.GetBySourceRef(ctx, "a", "", "c")) },
		"promote tlp": func(ctx context.Context) error {
			return drop(c.Alerts.Promote(ctx, "~1", &thehive.AlertPromote{TLP: &bad}))
		},
		"alert update": func(ctx context.Context) error {
			return c.Alerts.Update(ctx, "~1", &thehive.AlertUpdate{PAP: thehive.Ptr(thehive.PAP(9))})
		},
		"obs no type": func(ctx context.Context) error {
			return drop(c.Observables.AddToCase(ctx, "~1", &thehive.ObservableCreate{Data: []string{"x"}}))
		},
		"obs no data": func(ctx context.Context) error {
			return drop(c.Observables.AddToCase(ctx, "~1", &thehive.ObservableCreate{DataType: "ip"}))
		},
		"obs blank value": func(ctx context.Context) error {
			return drop(c.Observables.AddToCase(ctx, "~1", &thehive.ObservableCreate{DataType: "ip", Data: []string{" "}}))
		},
		"obs data and file": func(ctx context.Context) error {
			return drop(c.Observables.AddToAlert(ctx, "~1", &thehive.ObservableCreate{DataType: "file", Data: []string{"x"},
				File: &thehive.File{Name: "a", Reader: strings.NewReader("x")}}))
		},
		"obs nil": func(ctx context.Context) error { return drop(c.Observables.AddToCase(ctx, "~1", nil)) },
		"obs update": func(ctx context.Context) error {
			return c.Observables.Update(ctx, "~1", &thehive.ObservableUpdate{DataType: thehive.Ptr("")})
		},
		"task no title": func(ctx context.Context) error { return drop(c.Tasks.Create(ctx, "~1", &thehive.TaskCreate{})) },
		"task status": func(ctx context.Context) error {
			return drop(c.Tasks.Create(ctx, "~1", &thehive.TaskCreate{Title: "t", Status: "Done"}))
		},
		"task update": func(ctx context.Context) error {
			return c.Tasks.Update(ctx, "~1", &thehive.TaskUpdate{Status: thehive.Ptr(thehive.TaskStatus("Done"))})
		},
		"task no case":   func(ctx context.Context) error { return drop(c.Tasks.Create(ctx, "", &thehive.TaskCreate{Title: "t"})) },
		"log no message": func(ctx context.Context) error { return drop(c.TaskLogs.Create(ctx, "~1", &thehive.LogCreate{})) },
		"log nil":        func(ctx context.Context) error { return drop(c.TaskLogs.Create(ctx, "~1", nil)) },
		"log update": func(ctx context.Context) error {
			return c.TaskLogs.Update(ctx, "~1", &thehive.LogUpdate{Message: thehive.Ptr("")})
		},
		"log find no task": func(ctx context.Context) error { return drop(c.TaskLogs.Find(ctx, "", nil)) },
		"log get no id":    func(ctx context.Context) error { return drop(c.TaskLogs.Get(ctx, "")) },
		"comment empty":    func(ctx context.Context) error { return drop(c.Comments.AddToCase(ctx, "~1", "")) },
		"comment update":   func(ctx context.Context) error { return c.Comments.Update(ctx, "~1", "") },
		"field type": func(ctx context.Context) error {
			return drop(c.CustomFields.Create(ctx, &thehive.CustomFieldCreate{Name: "a", Group: "g", Description: "d", Type: "text"}))
		},
		"field no group": func(ctx context.Context) error {
			return drop(c.CustomFields.Create(ctx, &thehive.CustomFieldCreate{Name: "a", Description: "d", Type: "string"}))
		},
		"template no name": func(ctx context.Context) error {
			return drop(c.CaseTemplates.Create(ctx, &thehive.CaseTemplateCreate{}))
		},
		"type no name": func(ctx context.Context) error { return drop(c.ObservableTypes.Create(ctx, "", false)) },
		"job no analyzer": func(ctx context.Context) error {
			return drop(c.Cortex.RunAnalyzer(ctx, &thehive.JobCreate{CortexID: "c", ObservableID: "~1"}))
		},
		"job nil":         func(ctx context.Context) error { return drop(c.Cortex.RunAnalyzer(ctx, nil)) },
		"raw query empty": func(ctx context.Context) error { return c.RawQuery(ctx, nil, nil) },
		"nil context":     func(context.Context) error { return drop(c.Cases.Get(nil, "~1")) }, //lint:ignore SA1012 a nil context is refused
	}
	for name, call := range tests {
		if err := record(call(ctx(t))); !errors.Is(err, thehive.ErrInvalidParams) {
			t.Errorf("%s: error %v, want ErrInvalidParams", name, err)
		}
	}
	if n := len(ps.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	bad := map[string][]thehive.Option{
		"empty key":                   {thehive.WithAPIKey(" ")},
		"empty login":                 {thehive.WithBasicAuth("", "p")},
		"colon login":                 {thehive.WithBasicAuth("a:b", "p")},
		"empty org":                   {thehive.WithOrganisation("")},
		"nil http client":             {thehive.WithHTTPClient(nil)},
		"nil tls":                     {thehive.WithTLSConfig(nil)},
		"nil pool":                    {thehive.WithRootCAs(nil)},
		"bad pem":                     {thehive.WithCACertificatesPEM([]byte("not pem"))},
		"zero timeout":                {thehive.WithTimeout(0)},
		"multiline agent":             {thehive.WithUserAgent("a\nb")},
		"negative wait":               {thehive.WithRetryPolicy(thehive.RetryPolicy{MinWait: -1})},
		"empty header":                {thehive.WithHeader("", "x")},
		"multiline header":            {thehive.WithHeader("X-A", "1\r\nX-B: 2")},
		"tls without *http.Transport": {thehive.WithHTTPClient(&http.Client{Transport: roundTripFunc(nil)}), thehive.WithRootCAs(x509.NewCertPool())},
	}
	for name, opts := range bad {
		if _, err := thehive.NewClient("https://thehive.example", opts...); record(err) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, u := range []string{"", "thehive.example", "ftp://thehive.example", "https://user:" + pinPassword + "@thehive.example"} {
		_, err := thehive.NewClient(u, thehive.WithAPIKey(pinKey))
		if record(err) == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBasicAuthAndHeaders(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, userJSON))
	c, err := thehive.NewClient(ps.URL+basePath,
		thehive.WithAPIKey(pinKey), thehive.WithBasicAuth(pinLogin, pinPassword),
		thehive.WithUserAgent("probe/1.0"), thehive.WithHeader("X-Trace", "t1"),
		thehive.WithTimeout(10*time.Second), thehive.WithLogger(testLogger),
		thehive.WithHTTPClient(&http.Client{}), nil)
	if err != nil {
		t.Fatal(record(err))
	}
	if _, err := c.Users.Current(ctx(t), thehive.InOrganisation("other-org")); err != nil {
		t.Fatal(record(err))
	}
	r := ps.last(t)
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(pinLogin+":"+pinPassword))
	if r.Header.Get("Authorization") != wantAuth {
		t.Error("basic credentials do not take precedence over the API key")
	}
	if r.Header.Get("User-Agent") != "probe/1.0" || r.Header.Get("X-Trace") != "t1" || r.Header.Get("X-Organisation") != "other-org" {
		t.Errorf("headers %v", r.Header)
	}
}

func TestNoOrganisationHeaderByDefault(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, userJSON))
	c, err := thehive.NewClient(ps.URL+basePath, thehive.WithAPIKey(pinKey), thehive.WithLogger(testLogger))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Current(ctx(t)); err != nil {
		t.Fatal(record(err))
	}
	if _, set := ps.last(t).Header["X-Organisation"]; set {
		t.Error("X-Organisation sent without an organisation")
	}
}

func TestCustomCA(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"versions":{"TheHive":"5.5.13"}}`))
	}))
	t.Cleanup(srv.Close)
	// Without the test CA the certificate is refused, and not retried.
	c := newClient(t, srv.URL)
	if _, err := c.Status(ctx(t)); record(err) == nil {
		t.Fatal("an unknown CA was trusted")
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	for name, opt := range map[string]thehive.Option{
		"pem":  thehive.WithCACertificatesPEM(caPEM),
		"pool": thehive.WithRootCAs(srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs),
		"tls":  thehive.WithTLSConfig(&tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}),
	} {
		c := newClient(t, srv.URL, opt)
		st, err := c.Status(ctx(t))
		if err != nil || st.Versions["TheHive"] != "5.5.13" {
			t.Errorf("%s: %+v, %v", name, st, record(err))
		}
	}
}

func TestCrossHostRedirectRefused(t *testing.T) {
	t.Parallel()
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("credentials followed a redirect to another host")
		}
	}))
	t.Cleanup(elsewhere.Close)
	srv := httptest.NewServer(http.RedirectHandler(strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+"/x", http.StatusFound))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	if _, err := c.Cases.Get(ctx(t), "~1"); record(err) == nil {
		t.Fatal("redirect to another host followed")
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(first) })
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, thehive.WithRetryPolicy(thehive.RetryPolicy{MaxRetries: 10, MinWait: time.Hour, MaxWait: time.Hour}))
	cctx, cancel := context.WithCancel(ctx(t))
	go func() {
		<-first
		cancel()
	}()
	_, err := c.Cases.Get(cctx, "~1")
	if !errors.Is(record(err), context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
