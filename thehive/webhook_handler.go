package thehive

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// DefaultMaxWebhookBody is the largest webhook body a [WebhookHandler]
// reads unless told otherwise: TheHive events carry the whole object, and
// a description may reach 1 MiB.
const DefaultMaxWebhookBody = 4 << 20

// WebhookOption configures a [WebhookHandler].
type WebhookOption func(*webhookConfig) error

type webhookConfig struct {
	bearer   *[32]byte
	user     *[32]byte
	password *[32]byte
	noAuth   bool
	maxBody  int64
	logger   *slog.Logger
}

// WithBearerToken accepts requests carrying "Authorization: Bearer
// <token>", the "bearer" authentication of a TheHive webhook endpoint.
func WithBearerToken(token string) WebhookOption {
	return func(c *webhookConfig) error {
		if token == "" {
			return errors.New("WithBearerToken: empty token")
		}
		h := sha256.Sum256([]byte(token))
		c.bearer = &h
		return nil
	}
}

// WithBasicCredentials accepts requests carrying HTTP basic credentials
// user and password, the "basic" authentication of a TheHive webhook
// endpoint.
func WithBasicCredentials(user, password string) WebhookOption {
	return func(c *webhookConfig) error {
		if user == "" || password == "" {
			return errors.New("WithBasicCredentials: empty user or password")
		}
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
		c.user, c.password = &u, &p
		return nil
	}
}

// WithoutAuthentication accepts requests without credentials. It must be
// asked for explicitly, so that a handler never ends up open by mistake.
func WithoutAuthentication() WebhookOption {
	return func(c *webhookConfig) error {
		c.noAuth = true
		return nil
	}
}

// WithMaxBodySize sets the largest body read (default
// [DefaultMaxWebhookBody]); a larger one is refused with 413.
func WithMaxBodySize(n int64) WebhookOption {
	return func(c *webhookConfig) error {
		if n <= 0 {
			return errors.New("WithMaxBodySize: size must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// WithWebhookLogger logs each refused request at Warn level and each
// event at Debug level, without credentials.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(c *webhookConfig) error {
		c.logger = l
		return nil
	}
}

// WebhookHandler is an http.Handler receiving TheHive notifications: it
// authenticates the caller, reads and parses the event, and hands it to a
// function. Create it with [NewWebhookHandler].
type WebhookHandler struct {
	fn  func(context.Context, *Event) error
	cfg webhookConfig
}

// NewWebhookHandler returns a handler passing every event to fn, with the
// request's context. fn runs before the answer is sent, so it should be
// quick (hand long work to a queue): TheHive waits for the answer, and
// only logs it.
//
// Authentication is required: give [WithBearerToken],
// [WithBasicCredentials] (both may be given; either is then accepted), or
// [WithoutAuthentication]. Credentials are compared in constant time.
//
// Answers: 204 when fn returned nil; 405 for a method other than POST; 401
// for missing or wrong credentials; 415 for a body that is not JSON; 413
// for a body over the size limit; 400 for a payload that is not a TheHive
// event; 500 when fn failed (the error is logged, not sent).
func NewWebhookHandler(fn func(ctx context.Context, e *Event) error, opts ...WebhookOption) (*WebhookHandler, error) {
	if fn == nil {
		return nil, errors.New("thehive: NewWebhookHandler: nil function")
	}
	cfg := webhookConfig{maxBody: DefaultMaxWebhookBody}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, errors.New("thehive: " + err.Error())
		}
	}
	hasAuth := cfg.bearer != nil || cfg.user != nil
	switch {
	case !hasAuth && !cfg.noAuth:
		return nil, errors.New("thehive: NewWebhookHandler: no authentication configured (use WithBearerToken, WithBasicCredentials or WithoutAuthentication)")
	case hasAuth && cfg.noAuth:
		return nil, errors.New("thehive: NewWebhookHandler: WithoutAuthentication contradicts the credentials given")
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return &WebhookHandler{fn: fn, cfg: cfg}, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if !h.authenticated(r) {
		switch {
		case h.cfg.bearer != nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="thehive-webhook"`)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="thehive-webhook"`)
		}
		h.refuse(w, r, http.StatusUnauthorized, "unauthorized")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			h.refuse(w, r, http.StatusUnsupportedMediaType, "content type must be application/json")
			return
		}
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		h.refuse(w, r, http.StatusBadRequest, "cannot read the body")
		return
	}
	e, err := ParseEvent(payload)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	h.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "thehive event",
		slog.Int("version", e.Version),
		slog.String("operation", string(e.Operation)),
		slog.String("objectType", string(e.ObjectType)),
		slog.String("objectId", e.ObjectID))
	if err := h.fn(ctx, e); err != nil {
		h.cfg.logger.LogAttrs(ctx, slog.LevelError, "thehive event handler failed",
			slog.String("operation", string(e.Operation)),
			slog.String("objectType", string(e.ObjectType)),
			slog.String("objectId", e.ObjectID),
			slog.String("error", err.Error()))
		http.Error(w, "the event could not be processed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *WebhookHandler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "thehive webhook request refused",
		slog.Int("status", status),
		slog.String("reason", msg),
		slog.String("remote", r.RemoteAddr))
	http.Error(w, msg, status)
}

// authenticated checks the request's credentials in constant time.
func (h *WebhookHandler) authenticated(r *http.Request) bool {
	if h.cfg.noAuth {
		return true
	}
	ok := false
	if h.cfg.bearer != nil {
		if tok, found := bearerToken(r.Header.Get("Authorization")); found {
			got := sha256.Sum256([]byte(tok))
			ok = subtle.ConstantTimeCompare(got[:], h.cfg.bearer[:]) == 1
		}
	}
	if !ok && h.cfg.user != nil {
		if u, p, found := r.BasicAuth(); found {
			gu, gp := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
			ok = subtle.ConstantTimeCompare(gu[:], h.cfg.user[:])&
				subtle.ConstantTimeCompare(gp[:], h.cfg.password[:]) == 1
		}
	}
	return ok
}

func bearerToken(header string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
