package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// Actions of the original Synapse's webhook answer.
const (
	// ActionCloseOffense: the event concerned QRadar offenses.
	ActionCloseOffense = "closeOffense"
	// ActionNone: the event concerned no QRadar offense.
	ActionNone = "None"
)

// DefaultClosingReason is the closing reason of offenses whose resolution
// CloseOffenseConfig.ClosingReasons does not map: QRadar's reason 1, the one
// the original Synapse always used.
const DefaultClosingReason = "Non-Issue"

// CloseOffenseConfig configures an OffenseCloser.
type CloseOffenseConfig struct {
	// Name names the closer in logs (default "close-offenses").
	Name string
	// Instances are the QRadar consoles whose offenses are closed, each
	// known by the source of its alerts. At least one is needed.
	Instances []QRadarInstance
	// ClosingReasons maps a resolution to the name of a QRadar closing
	// reason. A case's resolution is its closed status (TheHive 5:
	// TruePositive, FalsePositive, Indeterminate, Other, Duplicated or a
	// custom status; TheHive 3 and 4: its resolutionStatus). An alert's
	// is its status (FalsePositive, Ignored...; "Ignored" for an alert
	// TheHive 4 marks read). Resolutions are compared without regard to
	// case.
	ClosingReasons map[string]string
	// DefaultClosingReason names the reason of resolutions the map lacks
	// (default DefaultClosingReason). A name no reason has that is a
	// number is taken as a reason's id ("1").
	DefaultClosingReason string
	// CloseOnAlertIgnored also closes the offense of an alert that is
	// closed in TheHive without becoming a case: ignored (TheHive 3), marked
	// read (TheHive 4), closed as FalsePositive, Duplicated... (TheHive 5).
	CloseOnAlertIgnored bool
	// SkipNote closes offenses without adding a note. By default a note
	// says which case (or alert) closed the offense, with its resolution,
	// impact and summary.
	SkipNote bool
	// StepRetry retries each step on transient errors. Its zero value
	// means one attempt: the clients already retry their requests, and
	// TheHive waits for the webhook's answer.
	StepRetry RetryPolicy
	// StepTimeout bounds each attempt of a step (default 1 minute).
	StepTimeout time.Duration
	// Logger receives a record per offense; nil discards them.
	Logger *slog.Logger
}

func closeConfigError(field, format string, args ...any) error {
	return &QRadarConfigError{Config: "CloseOffenseConfig", Field: field, Problem: fmt.Sprintf(format, args...)}
}

// OffenseCloser closes the QRadar offenses of cases closed in TheHive: it
// is given the events of TheHive's webhook (see thehive.ParseEvent and
// thehive.NewWebhookHandler) and, for a case that is closed, finds its
// alerts from QRadar (those of the cases merged into it included) and
// closes each offense that is still open, with a closing reason mapped from
// the case's resolution and a note carrying the case's number, resolution
// and summary.
//
// An offense already closed or gone is logged, never an error: TheHive
// would only log the failure. Closing is idempotent: the note is added once
// (an offense's notes are read first), and an offense closed meanwhile is
// left as it is. An OffenseCloser is safe for concurrent use; two events
// never close one offense at once.
type OffenseCloser struct {
	cfg       CloseOffenseConfig
	th        *thehive.Client
	instances map[string]*closerInstance
	reasons   map[string]string // lower-cased resolution → reason name
	pipeline  *Pipeline[offenseClosing]
	locks     keyedMutex
}

type closerInstance struct {
	source string
	client *qradar.Client

	mu      sync.Mutex
	reasons map[string]qradar.ClosingReason // by lower-cased name
}

// NewOffenseCloser returns a closer reading cases and alerts with th. It
// does no I/O; a setting that cannot be used is a *QRadarConfigError.
func NewOffenseCloser(th *thehive.Client, cfg CloseOffenseConfig) (*OffenseCloser, error) {
	if th == nil {
		return nil, errors.New("workflow: NewOffenseCloser needs a TheHive client")
	}
	if cfg.Name == "" {
		cfg.Name = "close-offenses"
	}
	if len(cfg.Instances) == 0 {
		return nil, closeConfigError("Instances", "no QRadar instance")
	}
	c := &OffenseCloser{th: th, instances: map[string]*closerInstance{}, reasons: map[string]string{}}
	for i, inst := range cfg.Instances {
		field := fmt.Sprintf("Instances[%d]", i)
		switch {
		case strings.TrimSpace(inst.Source) == "":
			return nil, closeConfigError(field+".Source", "empty")
		case inst.Client == nil:
			return nil, closeConfigError(field+".Client", "nil")
		case c.instances[inst.Source] != nil:
			return nil, closeConfigError(field+".Source", "%q is given twice", inst.Source)
		}
		c.instances[inst.Source] = &closerInstance{source: inst.Source, client: inst.Client, reasons: map[string]qradar.ClosingReason{}}
	}
	for resolution, reason := range cfg.ClosingReasons {
		if strings.TrimSpace(resolution) == "" || strings.TrimSpace(reason) == "" {
			return nil, closeConfigError("ClosingReasons", "empty resolution or reason (%q: %q)", resolution, reason)
		}
		c.reasons[strings.ToLower(strings.TrimSpace(resolution))] = strings.TrimSpace(reason)
	}
	cfg.DefaultClosingReason = strings.TrimSpace(cfg.DefaultClosingReason)
	if cfg.DefaultClosingReason == "" {
		cfg.DefaultClosingReason = DefaultClosingReason
	}
	if cfg.StepTimeout < 0 {
		return nil, closeConfigError("StepTimeout", "negative")
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = time.Minute
	}
	if cfg.StepRetry.Attempts == 0 && cfg.StepRetry.MinWait == 0 && cfg.StepRetry.MaxWait == 0 && cfg.StepRetry.Retryable == nil {
		cfg.StepRetry.Attempts = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c.cfg = cfg
	c.pipeline = NewPipeline(cfg.Name,
		NewStep("read-offense", c.readOffense),
		NewStep("closing-reason", c.closingReason),
		NewStep("add-note", c.addNote),
		NewStep("close-offense", c.closeOffense),
	).Use(Logging(cfg.Logger), Retry(cfg.StepRetry), Timeout(cfg.StepTimeout))
	return c, nil
}

// CloseStatus is what an OffenseCloser did to one offense.
type CloseStatus string

// Close statuses.
const (
	// OffenseClosed: the offense was closed.
	OffenseClosed CloseStatus = "closed"
	// OffenseAlreadyClosed: the offense was closed already.
	OffenseAlreadyClosed CloseStatus = "already_closed"
	// OffenseMissing: QRadar has no such offense (any more).
	OffenseMissing CloseStatus = "missing"
	// OffenseCloseFailed: the offense could not be closed; see Error.
	OffenseCloseFailed CloseStatus = "failed"
)

// OffenseClose is what became of one offense.
type OffenseClose struct {
	// Source is the alert's source, which names the QRadar instance.
	Source string `json:"source"`
	// OffenseID is the offense, AlertID the alert that stands for it.
	OffenseID qradar.OffenseID `json:"offense_id"`
	AlertID   thehive.AlertID  `json:"alert_id"`
	// Status says what was done.
	Status CloseStatus `json:"status"`
	// ClosingReason is the reason the offense was closed with.
	ClosingReason string `json:"closing_reason,omitempty"`
	// Error says why the offense could not be closed.
	Error string `json:"error,omitempty"`
}

// CloseResult is what an OffenseCloser did for one event.
type CloseResult struct {
	// Action is ActionCloseOffense when the event concerned QRadar
	// offenses, else ActionNone: the original's webhook answer.
	Action string `json:"action"`
	// Offenses lists the offenses concerned.
	Offenses []OffenseClose `json:"offenses,omitempty"`
}

// CloseResponse is the original Synapse's answer to POST /webhook:
// {"action":"closeOffense","success":true} or {"action":"None","success":true},
// and {"success":false} with status 500 when handling the event failed.
type CloseResponse struct {
	Action  string `json:"action,omitempty"`
	Success bool   `json:"success"`
}

// NewCloseResponse returns the original's answer for what Handle returned.
func NewCloseResponse(r CloseResult, err error) CloseResponse {
	if err != nil {
		return CloseResponse{}
	}
	return CloseResponse{Action: r.Action, Success: true}
}

// StatusCode returns the HTTP status of the answer: 200, or 500 when it
// reports a failure.
func (r CloseResponse) StatusCode() int {
	if r.Success {
		return 200
	}
	return 500
}

// closeTarget is an offense to close, from one of its alerts.
type closeTarget struct {
	inst    *closerInstance
	offense qradar.OffenseID
	alert   thehive.AlertID
}

// key identifies the offense among those of every instance.
func (t closeTarget) key() string { return t.inst.source + "\x00" + offenseRef(t.offense) }

// closeWhy is why offenses are closed: the resolution, and the note.
type closeWhy struct {
	resolution string
	marker     string // identifies the note, to add it once
	note       string
}

// Handle closes the offenses that the event calls for: those of a case
// closed in TheHive (and of the cases merged into it), or, with
// CloseOnAlertIgnored, that of an alert closed without a case. Other
// events are answered with ActionNone. The error joins the failures that
// another delivery might fix (QRadar or TheHive unreachable, a closing
// reason missing); offenses already closed or gone are not errors.
func (c *OffenseCloser) Handle(ctx context.Context, e *thehive.Event) (CloseResult, error) {
	res := CloseResult{Action: ActionNone}
	if e == nil {
		return res, nil
	}
	var (
		why     closeWhy
		targets []closeTarget
		err     error
	)
	switch {
	case e.IsCaseClosed():
		why = caseClosing(e)
		targets, err = c.caseTargets(ctx, e)
	case c.cfg.CloseOnAlertIgnored && e.IsAlertIgnoredOrRead():
		why, targets, err = c.alertTarget(ctx, e)
	default:
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("workflow: %s: %w", c.cfg.Name, err)
	}
	if len(targets) == 0 {
		c.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "no QRadar alert to close", slog.String("workflow", c.cfg.Name),
			slog.String("object", string(e.ObjectType)), slog.String("id", e.ObjectID))
		return res, nil
	}
	res.Action = ActionCloseOffense
	var errs []error
	for _, t := range targets {
		oc, err := c.closeOne(ctx, t, &why)
		res.Offenses = append(res.Offenses, oc)
		if err != nil {
			errs = append(errs, fmt.Errorf("offense %d of %s: %w", t.offense, t.inst.source, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("workflow: %s: %w", c.cfg.Name, err)
	}
	return res, nil
}

// eventString returns a field of the event's details, else of its object,
// as text.
func eventString(e *thehive.Event, key string) string {
	for _, get := range []func(string) (any, bool){e.DetailField, e.ObjectField} {
		v, ok := get(key)
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			if s := strings.TrimSpace(x); s != "" {
				return s
			}
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return ""
}

// openStatuses are statuses that say nothing of a case's resolution.
var openStatuses = map[string]bool{"": true, "open": true, "resolved": true, "new": true, "inprogress": true, "deleted": true}

// caseResolution returns how a closed case was resolved: TheHive 5's closed
// status (extendedStatus in its TheHive 3 format, where status is
// "Resolved"), else TheHive 3 and 4's resolutionStatus.
func caseResolution(e *thehive.Event) string {
	if s := eventString(e, "extendedStatus"); !openStatuses[strings.ToLower(s)] {
		return s
	}
	if s := eventString(e, "status"); !openStatuses[strings.ToLower(s)] {
		return s
	}
	return eventString(e, "resolutionStatus")
}

// caseClosing says why the offenses of a closed case are closed.
func caseClosing(e *thehive.Event) closeWhy {
	ref := "TheHive case " + e.ObjectID
	if n := e.CaseNumber(); n > 0 {
		ref = fmt.Sprintf("TheHive case #%d (%s)", n, e.ObjectID)
	}
	why := closeWhy{resolution: caseResolution(e), marker: ref}
	var b strings.Builder
	b.WriteString(closedFrom(ref, eventString(e, "title")))
	b.WriteString("\nResolution: " + cmp.Or(why.resolution, "not given"))
	if impact := eventString(e, "impactStatus"); impact != "" {
		b.WriteString("; impact: " + impact)
	}
	b.WriteString("\nSummary: " + cmp.Or(cutRunes(strings.TrimSpace(eventString(e, "summary")), 1000, "…"), "none"))
	why.note = strings.ToValidUTF8(b.String(), "\uFFFD")
	return why
}

// caseTargets returns the offenses of the QRadar alerts of the closed case
// and of the cases merged into it (TheHive 3's mergeFrom; TheHive 5 moves
// the alerts of merged cases into the new case).
func (c *OffenseCloser) caseTargets(ctx context.Context, e *thehive.Event) ([]closeTarget, error) {
	var targets []closeTarget
	seen := map[string]bool{}
	for _, id := range append([]string{e.ObjectID}, e.MergedFrom()...) {
		if id == "" {
			continue
		}
		alerts, err := c.th.Cases.FindAlerts(ctx, thehive.CaseID(id), nil)
		if errors.Is(err, thehive.ErrNotFound) {
			c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "closed case not found", slog.String("workflow", c.cfg.Name), slog.String("case", id))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the alerts of case %s: %w", id, err)
		}
		for _, a := range alerts {
			if t, ok := c.target(ctx, a.ID, a.Source, a.SourceRef); ok && !seen[t.key()] {
				seen[t.key()] = true
				targets = append(targets, t)
			}
		}
	}
	return targets, nil
}

// target returns the offense of an alert, when the alert comes from one of
// the instances.
func (c *OffenseCloser) target(ctx context.Context, id thehive.AlertID, source, sourceRef string) (closeTarget, bool) {
	inst := c.instances[source]
	if inst == nil {
		return closeTarget{}, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(sourceRef), 10, 64)
	if err != nil || n <= 0 {
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "alert's sourceRef is not an offense id", slog.String("workflow", c.cfg.Name),
			slog.String("alert", string(id)), slog.String("sourceRef", sourceRef))
		return closeTarget{}, false
	}
	return closeTarget{inst: inst, offense: qradar.OffenseID(n), alert: id}, true
}

// alertTarget returns the offense of an alert closed without a case.
func (c *OffenseCloser) alertTarget(ctx context.Context, e *thehive.Event) (closeWhy, []closeTarget, error) {
	id := thehive.AlertID(e.ObjectID)
	source, ref, title := eventString(e, "source"), eventString(e, "sourceRef"), eventString(e, "title")
	if source == "" || ref == "" {
		a, err := c.th.Alerts.Get(ctx, id)
		if errors.Is(err, thehive.ErrNotFound) {
			return closeWhy{}, nil, nil
		}
		if err != nil {
			return closeWhy{}, nil, fmt.Errorf("reading alert %s: %w", id, err)
		}
		source, ref, title = a.Source, a.SourceRef, a.Title
	}
	t, ok := c.target(ctx, id, source, ref)
	if !ok {
		return closeWhy{}, nil, nil
	}
	status := eventString(e, "status")
	if read, _ := e.Details["read"].(bool); read || strings.EqualFold(status, "Ignored") || status == "" {
		status = "Ignored"
	}
	ref = "TheHive alert " + string(id)
	note := closedFrom(ref, title) + "\nThe alert was closed without a case (" + status + ")."
	return closeWhy{resolution: status, marker: ref, note: note}, []closeTarget{t}, nil
}

// closedFrom is the first line of a note: the case or alert ref that closed
// the offense, and its title.
func closedFrom(ref, title string) string {
	if title == "" {
		return "Closed from " + ref
	}
	return "Closed from " + ref + ": " + cutRunes(mdText(title), 200, "…")
}

// offenseClosing is the state of one offense being closed.
type offenseClosing struct {
	target closeTarget
	why    *closeWhy
	reason qradar.ClosingReason
	result OffenseClose
	done   bool // nothing more to do
}

// closeOne closes one offense, never in two goroutines at once.
func (c *OffenseCloser) closeOne(ctx context.Context, t closeTarget, why *closeWhy) (OffenseClose, error) {
	st := &offenseClosing{target: t, why: why,
		result: OffenseClose{Source: t.inst.source, OffenseID: t.offense, AlertID: t.alert}}
	unlock, err := c.locks.lock(ctx, t.key())
	if err == nil {
		defer unlock()
		err = c.pipeline.Run(ctx, st)
	}
	attrs := []slog.Attr{slog.String("workflow", c.cfg.Name), slog.String("source", t.inst.source),
		slog.Int64("offense", int64(t.offense)), slog.String("alert", string(t.alert))}
	if err != nil {
		st.result.Status, st.result.Error = OffenseCloseFailed, err.Error()
		c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "offense not closed", append(attrs, slog.String("error", err.Error()))...)
		return st.result, err
	}
	c.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "offense "+strings.ReplaceAll(string(st.result.Status), "_", " "),
		append(attrs, slog.String("reason", st.result.ClosingReason))...)
	return st.result, nil
}

func (c *OffenseCloser) readOffense(ctx context.Context, s *offenseClosing) error {
	o, err := s.target.inst.client.Offenses.Get(ctx, s.target.offense, "id", "status")
	switch {
	case errors.Is(err, qradar.ErrNotFound):
		s.result.Status, s.done = OffenseMissing, true
		return nil
	case err != nil:
		return fmt.Errorf("reading the offense: %w", err)
	case o.Status == qradar.StatusClosed:
		s.result.Status, s.done = OffenseAlreadyClosed, true
	}
	return nil
}

func (c *OffenseCloser) closingReason(ctx context.Context, s *offenseClosing) error {
	if s.done {
		return nil
	}
	name := c.cfg.DefaultClosingReason
	if n, ok := c.reasons[strings.ToLower(s.why.resolution)]; ok {
		name = n
	}
	r, err := s.target.inst.reason(ctx, name)
	if err != nil {
		return err
	}
	s.reason, s.result.ClosingReason = r, r.Text
	return nil
}

// reason returns the usable closing reason called name, or whose id name
// is, from a cache of those found before.
func (inst *closerInstance) reason(ctx context.Context, name string) (qradar.ClosingReason, error) {
	key := strings.ToLower(name)
	inst.mu.Lock()
	r, ok := inst.reasons[key]
	inst.mu.Unlock()
	if ok {
		return r, nil
	}
	found, err := inst.client.ClosingReasons.FindByName(ctx, name)
	if errors.Is(err, qradar.ErrNotFound) {
		if id, perr := strconv.ParseInt(name, 10, 64); perr == nil && id > 0 {
			found, err = inst.client.ClosingReasons.Get(ctx, qradar.ClosingReasonID(id))
			if err == nil && (found.Deleted || found.Reserved) {
				err = qradar.ErrNotFound
			}
		}
	}
	switch {
	case errors.Is(err, qradar.ErrNotFound):
		return r, Permanent(fmt.Errorf("QRadar has no closing reason %q that can close an offense", name))
	case err != nil:
		return r, fmt.Errorf("reading the closing reasons: %w", err)
	}
	inst.mu.Lock()
	inst.reasons[key] = *found
	inst.mu.Unlock()
	return *found, nil
}

func (c *OffenseCloser) addNote(ctx context.Context, s *offenseClosing) error {
	if s.done || c.cfg.SkipNote {
		return nil
	}
	for n, err := range s.target.inst.client.Offenses.ListNotesAll(ctx, s.target.offense, nil) {
		if err != nil {
			return fmt.Errorf("reading the offense's notes: %w", err)
		}
		if strings.Contains(n.Text, s.why.marker) {
			return nil // added by an earlier attempt
		}
	}
	if _, err := s.target.inst.client.Offenses.AddNote(ctx, s.target.offense, s.why.note); err != nil {
		if errors.Is(err, qradar.ErrNotFound) {
			s.result.Status, s.done = OffenseMissing, true
			return nil
		}
		return fmt.Errorf("adding the note: %w", err)
	}
	return nil
}

func (c *OffenseCloser) closeOffense(ctx context.Context, s *offenseClosing) error {
	if s.done {
		return nil
	}
	_, err := s.target.inst.client.Offenses.Close(ctx, s.target.offense, s.reason.ID)
	switch {
	case err == nil:
		s.result.Status = OffenseClosed
	case errors.Is(err, qradar.ErrAlreadyClosed):
		s.result.Status = OffenseAlreadyClosed
	case errors.Is(err, qradar.ErrNotFound):
		s.result.Status = OffenseMissing
	default:
		return fmt.Errorf("closing the offense: %w", err)
	}
	s.done = true
	return nil
}
