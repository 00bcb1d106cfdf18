package workflow

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/synapse-go/synapse/thehive"
)

const defaultMaxBody = 4 << 20

// Handler returns the synapse HTTP API:
//
//	GET  /version                 {"version": "..."}                        open
//	GET  /healthz                 {"status": "ok"}                          open
//	GET  /metrics                 Prometheus text format                   open
//	GET  /workflows               every workflow's status and last report  API token
//	POST /workflows/{name}/run    run a workflow now, answer its report    API token
//	GET  /ews2case                run the ews2case workflows (original)    API token
//	POST /QRadar2alert            {"timerange": N} (original)              API token
//	POST /webhook                 TheHive notifications (original)         webhook credentials
//
// The original endpoints answer with the original JSON keys, so scripts
// written for TheHive-Project's Synapse keep working once they send the
// token. A run already in progress answers 409.
func (a *App) Handler() (http.Handler, error) {
	s := a.cfg.Server
	if s.APIToken == "" {
		return nil, &ConfigError{File: a.cfg.File, Key: "server.api_token", Msg: "required: the trigger endpoints need a bearer token"}
	}
	maxBody := s.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = defaultMaxBody
	}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.Handler { return a.requireToken(s.APIToken, h) }
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": Version})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = a.metrics.WriteTo(w)
	})
	mux.Handle("GET /workflows", auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"workflows": a.sched.Status()})
	}))
	mux.Handle("POST /workflows/{name}/run", auth(a.serveRun))
	mux.Handle("GET /ews2case", auth(a.serveEws2Case))
	mux.Handle("POST /QRadar2alert", auth(a.serveQRadar2Alert))
	webhook, err := a.webhookHandler(maxBody)
	if err != nil {
		return nil, err
	}
	mux.Handle("POST /webhook", webhook)

	return a.observe(http.MaxBytesHandler(mux, maxBody), mux), nil
}

// observe counts requests by route pattern and status.
func (a *App) observe(next http.Handler, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		a.metrics.add("synapse_http_requests_total", 1, "route", pattern, "code", fmt.Sprint(sw.status))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// requireToken accepts requests bearing the token, compared in constant
// time.
func (a *App) requireToken(token Secret, next http.Handler) http.Handler {
	want := []byte("Bearer " + token.Reveal())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="synapse"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "a valid bearer token is required"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// runStatus is the HTTP status for the error of a run.
func runStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrRunning):
		return http.StatusConflict
	case errors.Is(err, ErrUnknownJob):
		return http.StatusNotFound
	case errors.Is(err, ErrStopped):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (a *App) serveRun(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if a.cfg.Workflow(name) != nil && a.cfg.Workflow(name).Type == WorkflowCloseOffenses {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "message": "close_offenses workflows run on TheHive's webhook"})
		return
	}
	rep, err := a.sched.Run(r.Context(), name)
	body := map[string]any{"success": err == nil && rep.Failed == 0, "report": rep}
	if err != nil {
		body["message"] = err.Error()
		a.logger.Warn("triggered run failed", "workflow", name, "error", err.Error())
	}
	writeJSON(w, runStatus(err), body)
}

// serveEws2Case is the original GET /ews2case: it runs every ews2case
// workflow and answers {"success": true|false}, with the reports besides.
func (a *App) serveEws2Case(w http.ResponseWriter, r *http.Request) {
	names := a.byType[WorkflowEws2Case]
	if len(names) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "message": "no ews2case workflow is configured"})
		return
	}
	status, ok := http.StatusOK, true
	var reports []Report
	for _, name := range names {
		rep, err := a.sched.Run(r.Context(), name)
		reports = append(reports, rep)
		if err != nil || rep.Failed > 0 {
			ok = false
		}
		if err != nil {
			a.logger.Warn("ews2case run failed", "workflow", name, "error", err.Error())
			status = max(status, runStatus(err))
		}
	}
	writeJSON(w, status, map[string]any{"success": ok, "reports": reports})
}

// serveQRadar2Alert is the original POST /QRadar2alert {"timerange": N}.
func (a *App) serveQRadar2Alert(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Timerange *int `json:"timerange"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		// The original's keys, its "sucess" typo included.
		writeJSON(w, http.StatusBadRequest, map[string]any{"sucess": false, "message": "Request didn't contain valid JSON"})
		return
	}
	if req.Timerange == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"sucess": false, "message": "timerange key missing in request"})
		return
	}
	if *req.Timerange <= 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"sucess": false, "message": "timerange must be a positive number of minutes"})
		return
	}
	if len(a.qradarJobs) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "message": "no qradar2alert workflow is configured"})
		return
	}
	resp := a.QRadarTimerange(r.Context(), time.Duration(*req.Timerange)*time.Minute)
	writeJSON(w, resp.StatusCode(), resp)
}

// webhookResult carries the action taken from the webhook function to the
// response writer.
type webhookResult struct{ action string }

type webhookKey struct{}

// webhookHandler receives TheHive notifications through thehive's handler
// (authentication, size limit, parsing) and answers the original JSON:
// {"action": "closeOffense"|"None", "success": true}.
func (a *App) webhookHandler(maxBody int64) (http.Handler, error) {
	s := a.cfg.Server
	var opts []thehive.WebhookOption
	if s.WebhookToken != "" {
		opts = append(opts, thehive.WithBearerToken(s.WebhookToken.Reveal()))
	}
	if s.WebhookUser != "" {
		opts = append(opts, thehive.WithBasicCredentials(s.WebhookUser, s.WebhookPassword.Reveal()))
	}
	if len(opts) == 0 {
		if a.webhook == nil {
			// No webhook workflow and no credentials: the route refuses.
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "message": "no webhook is configured"})
			}), nil
		}
		return nil, &ConfigError{File: a.cfg.File, Key: "server.webhook_token", Msg: "required by the close_offenses workflows (or webhook_user and webhook_password)"}
	}
	opts = append(opts, thehive.WithMaxBodySize(maxBody), thehive.WithWebhookLogger(a.logger))
	h, err := thehive.NewWebhookHandler(func(ctx context.Context, e *thehive.Event) error {
		res, _ := ctx.Value(webhookKey{}).(*webhookResult)
		action := ActionNone
		if a.webhook != nil {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			act, err := a.webhook(ctx, e)
			if err != nil {
				a.metrics.add("synapse_webhook_events_total", 1, "action", "error")
				return err
			}
			action = act
		}
		a.metrics.add("synapse_webhook_events_total", 1, "action", action)
		if res != nil {
			res.action = action
		}
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := &webhookResult{}
		r = r.WithContext(context.WithValue(r.Context(), webhookKey{}, res))
		h.ServeHTTP(&webhookWriter{ResponseWriter: w, res: res}, r)
	}), nil
}

// webhookWriter turns the handler's "204 No Content" after a handled event
// into the original 200 {"action": ..., "success": true}, and a 500 into
// {"success": false}.
type webhookWriter struct {
	http.ResponseWriter
	res     *webhookResult
	replied bool
}

func (w *webhookWriter) WriteHeader(code int) {
	switch {
	case w.replied:
		return
	case code == http.StatusNoContent:
		w.replied = true
		writeJSON(w.ResponseWriter, http.StatusOK, map[string]any{"action": w.res.action, "success": true})
	case code == http.StatusInternalServerError:
		w.replied = true
		writeJSON(w.ResponseWriter, code, map[string]any{"success": false})
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *webhookWriter) Write(b []byte) (int, error) {
	if w.replied {
		return len(b), nil // the handler's own body is replaced
	}
	return w.ResponseWriter.Write(b)
}

// Serve runs the HTTP API on the configured address and the workflows'
// schedules until ctx ends, then stops accepting requests and lets runs in
// progress finish their current items (server.shutdown_timeout).
func (a *App) Serve(ctx context.Context) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	addr := a.cfg.Server.Listen
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return a.ServeListener(ctx, ln, h)
}

// ServeListener is Serve on an open listener, with the handler h.
func (a *App) ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	a.sched.Start(ctx)
	a.logger.Info("synapse serving", "addr", ln.Addr().String(), "version", Version,
		"workflows", len(a.cfg.Workflows))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		_ = a.sched.Stop(context.Background())
		return err
	case <-ctx.Done():
	}
	grace := a.cfg.Server.ShutdownTimeout
	if grace <= 0 {
		grace = 30 * time.Second
	}
	a.logger.Info("synapse stopping", "grace", grace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	herr := srv.Shutdown(sctx)
	serr := a.sched.Stop(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(herr, serr)
}
