package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// QRadar2Alert turns QRadar offenses into TheHive alerts: each offense
// becomes one alert, identified by (type, source, offense id), with the
// offense's summary, rules, addresses and first events in its description
// and its addresses, user names and host names as observables. When an
// offense changes (new addresses, events, a new magnitude), its alert is
// updated; when nothing changed, nothing is sent.
//
// It is a Job: each Run takes the offenses changed since the previous run.
// The watermark that says where the previous run ended is kept in memory and
// moves only past offenses that were handled (or set aside after
// MaxAttempts permanent failures), so an offense that failed is listed
// again by the next run. RunTimerange serves the original
// "POST /QRadar2alert" call and ProcessOffense a single offense.
//
// A QRadar2Alert is safe for concurrent use: runs of Run never overlap,
// and an offense is never handled by two calls at once.
type QRadar2Alert struct {
	cfg      QRadarConfig
	qr       *qradar.Client
	th       *thehive.Client
	pipeline *Pipeline[offenseAlert]
	locks    keyedMutex
	runner   *Runner[qradar.EnrichedOffense]
	source   *offenseSource

	runMu     sync.Mutex // one Run at a time, watermark commit included
	mu        sync.Mutex
	watermark offenseKey
}

// NewQRadar2Alert returns the workflow reading offenses with qr and
// creating alerts with th. It does no I/O; a setting that cannot be used is
// a *QRadarConfigError.
func NewQRadar2Alert(qr *qradar.Client, th *thehive.Client, cfg QRadarConfig) (*QRadar2Alert, error) {
	if qr == nil || th == nil {
		return nil, errors.New("workflow: NewQRadar2Alert needs a QRadar and a TheHive client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	q := &QRadar2Alert{cfg: cfg, qr: qr, th: th}
	q.pipeline = qradar2AlertPipeline(qr, th, &q.cfg)
	q.source = &offenseSource{q: q, scheduled: true}
	q.runner = q.newRunner(q.source, cfg.MaxAttempts)
	return q, nil
}

// Name returns the workflow's name (QRadarConfig.Name).
func (q *QRadar2Alert) Name() string { return q.cfg.Name }

// Instance returns what an OffenseCloser needs to close the offenses of
// this workflow's alerts: their source and the QRadar client.
func (q *QRadar2Alert) Instance() QRadarInstance {
	return QRadarInstance{Source: q.cfg.Source, Client: q.qr}
}

// Watermark returns the time up to which scheduled runs have handled every
// offense, or the zero time before the first run.
func (q *QRadar2Alert) Watermark() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.watermark.t
}

// SetWatermark makes the next run take the offenses changed after t (in
// QRadarConfig.WatermarkField): to resume from a time saved elsewhere, or to
// look further back. The zero time means "Lookback before the next run". It
// waits for a run in progress to end.
func (q *QRadar2Alert) SetWatermark(t time.Time) {
	q.runMu.Lock()
	defer q.runMu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.watermark = offenseKey{t: t.Truncate(time.Millisecond)}
}

// Run handles every offense (of the configured statuses) changed since the
// previous run: it creates the alerts of new offenses and updates those of
// offenses that changed. The first run looks QRadarConfig.Lookback back.
// Failures of single offenses are counted in the report; the error is the
// listing's or the context's.
func (q *QRadar2Alert) Run(ctx context.Context) (Report, error) {
	q.runMu.Lock()
	defer q.runMu.Unlock()
	q.mu.Lock()
	if q.watermark.t.IsZero() {
		q.watermark = offenseKey{t: time.Now().Add(-q.cfg.Lookback).Truncate(time.Millisecond)}
	}
	from := q.watermark
	q.mu.Unlock()

	q.source.start(from)
	rep, err := q.runner.Run(ctx)
	if next, ok := q.source.finish(); ok {
		q.mu.Lock()
		q.watermark = next
		q.mu.Unlock()
		q.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "watermark moved", slog.String("workflow", q.cfg.Name),
			slog.Time("watermark", next.t), slog.Int64("offense", int64(next.id)))
	}
	return rep, err
}

// QRadarInstance is a QRadar console whose offenses an OffenseCloser
// closes.
type QRadarInstance struct {
	// Source is the source of the console's alerts in TheHive: see
	// QRadarAlertSource and QRadar2Alert.Instance.
	Source string
	// Client talks to the console.
	Client *qradar.Client
}

// OffenseResult is what became of one offense.
type OffenseResult struct {
	// OffenseID is the offense's id.
	OffenseID qradar.OffenseID
	// AlertID is the id of its alert, created, updated or found unchanged.
	AlertID thehive.AlertID
	// Outcome says whether the alert was created, updated or left as it
	// was.
	Outcome Outcome
	// Err is why the offense could not be handled.
	Err error
}

// RunTimerange handles the offenses (of the configured statuses) changed in
// the last d, as the original's "POST /QRadar2alert" with {"timerange": N}
// did for N minutes, and returns what became of each, in ascending offense
// id order. It does not move the scheduled runs' watermark. The error is the
// listing's or the context's; NewQRadar2AlertResponse renders the
// original's answer from both.
func (q *QRadar2Alert) RunTimerange(ctx context.Context, d time.Duration) ([]OffenseResult, error) {
	if d <= 0 {
		return nil, fmt.Errorf("workflow: %s: the time range must be positive, not %v", q.cfg.Name, d)
	}
	src := &offenseSource{q: q}
	src.start(offenseKey{t: time.Now().Add(-d).Truncate(time.Millisecond)})
	r := q.newRunner(src, 1)
	var mu sync.Mutex
	var results []OffenseResult
	r.Process = func(ctx context.Context, e qradar.EnrichedOffense) (Outcome, error) {
		res := q.process(ctx, e)
		mu.Lock()
		results = append(results, res)
		mu.Unlock()
		return res.Outcome, res.Err
	}
	_, err := r.Run(ctx)
	mu.Lock()
	defer mu.Unlock()
	slices.SortStableFunc(results, func(a, b OffenseResult) int { return cmp.Compare(a.OffenseID, b.OffenseID) })
	return results, err
}

// ProcessOffense handles one offense, whatever its status and last update:
// it creates its alert or updates it. The error is the result's Err.
func (q *QRadar2Alert) ProcessOffense(ctx context.Context, id qradar.OffenseID) (OffenseResult, error) {
	res := OffenseResult{OffenseID: id}
	o, err := q.qr.Offenses.Get(ctx, id)
	if err != nil {
		res.Err = fmt.Errorf("reading offense %d: %w", id, err)
		return res, res.Err
	}
	enriched, err := q.enrich(ctx, []qradar.Offense{*o})
	if err != nil {
		res.Err = err
		return res, err
	}
	res = q.process(ctx, enriched[0])
	return res, res.Err
}

// process runs the pipeline on one offense, never on the same offense in
// two goroutines at once.
func (q *QRadar2Alert) process(ctx context.Context, e qradar.EnrichedOffense) OffenseResult {
	res := OffenseResult{OffenseID: e.Offense.ID}
	unlock, err := q.locks.lock(ctx, offenseRef(e.Offense.ID))
	if err != nil {
		res.Err = err
		return res
	}
	defer unlock()
	st := &offenseAlert{offense: e}
	res.Err = q.pipeline.Run(ctx, st)
	res.AlertID, res.Outcome = st.alertID, st.outcome
	return res
}

func (q *QRadar2Alert) newRunner(src Source[qradar.EnrichedOffense], maxAttempts int) *Runner[qradar.EnrichedOffense] {
	return &Runner[qradar.EnrichedOffense]{
		Name:   q.cfg.Name,
		Source: src,
		Key:    func(e qradar.EnrichedOffense) string { return offenseRef(e.Offense.ID) },
		Process: func(ctx context.Context, e qradar.EnrichedOffense) (Outcome, error) {
			res := q.process(ctx, e)
			return res.Outcome, res.Err
		},
		Concurrency: q.cfg.Concurrency,
		MaxAttempts: maxAttempts,
		RetryWait:   q.cfg.RetryWait,
		Logger:      q.cfg.Logger,
	}
}

// enrich resolves the ids of a page of offenses in batches. A lookup that
// failed for a reason another try may fix fails the page; any other failure
// is logged and the offenses go on with what could be resolved.
func (q *QRadar2Alert) enrich(ctx context.Context, offenses []qradar.Offense) ([]qradar.EnrichedOffense, error) {
	enriched, err := q.qr.Offenses.Enrich(ctx, offenses, nil)
	if err == nil {
		return enriched, nil
	}
	if ctx.Err() != nil || IsTransient(err) {
		return nil, err
	}
	q.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "offenses only partly enriched",
		slog.String("workflow", q.cfg.Name), slog.String("error", err.Error()))
	return enriched, nil
}

// offenseKey is an offense's place in the listing order: its watermark
// field's time, then its id.
type offenseKey struct {
	t  time.Time
	id qradar.OffenseID
}

func (k offenseKey) less(o offenseKey) bool {
	return k.t.Before(o.t) || (k.t.Equal(o.t) && k.id < o.id)
}

func (q *QRadar2Alert) keyOf(o *qradar.Offense) offenseKey {
	t := o.LastPersistedTime
	if q.cfg.WatermarkField == WatermarkLastUpdated {
		t = o.LastUpdatedTime
	}
	return offenseKey{t: t, id: o.ID}
}

// offenses lists, in ascending order of (watermark field, id), the offenses
// of the configured statuses after from, and enriches them a page at a time.
// It pages by key rather than by position, so that offenses changing while
// it lists are neither skipped nor shifted.
func (q *QRadar2Alert) offenses(ctx context.Context, from offenseKey) iter.Seq2[qradar.EnrichedOffense, error] {
	return func(yield func(qradar.EnrichedOffense, error) bool) {
		field := q.cfg.WatermarkField
		statuses := make([]any, len(q.cfg.Statuses))
		for i, s := range q.cfg.Statuses {
			statuses[i] = s
		}
		after := from
		for {
			filter := qradar.And(
				qradar.In("status", statuses...),
				qradar.Or(qradar.Gt(field, after.t), qradar.And(qradar.Eq(field, after.t), qradar.Gt("id", int64(after.id)))),
			)
			page, err := q.qr.Offenses.List(ctx, &qradar.OffenseListOptions{
				Filter: filter,
				Sort:   "+" + field + ",+id",
				Limit:  q.cfg.PageSize,
			})
			if err != nil {
				yield(qradar.EnrichedOffense{}, fmt.Errorf("listing offenses: %w", err))
				return
			}
			if len(page.Items) == 0 {
				return
			}
			enriched, err := q.enrich(ctx, page.Items)
			if err != nil {
				yield(qradar.EnrichedOffense{}, fmt.Errorf("enriching offenses: %w", err))
				return
			}
			for _, e := range enriched {
				if !yield(e, nil) {
					return
				}
			}
			last := q.keyOf(&page.Items[len(page.Items)-1])
			if !after.less(last) || len(page.Items) < q.cfg.PageSize {
				return
			}
			after = last
		}
	}
}

// offenseSource is the Source of one run: it lists the offenses after a key
// and remembers, in listing order, which of them were handled, to tell how
// far the watermark may move.
type offenseSource struct {
	q         *QRadar2Alert
	scheduled bool // the watermark's source, not a one-off listing

	mu     sync.Mutex
	from   offenseKey
	listed []offenseKey
	done   map[offenseKey]bool
}

func (s *offenseSource) start(from offenseKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.from, s.listed, s.done = from, nil, map[offenseKey]bool{}
}

// finish returns the key of the last offense of the longest run of handled
// offenses at the start of the listing, and whether there is one.
func (s *offenseSource) finish() (offenseKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last offenseKey
	ok := false
	for _, k := range s.listed {
		if !s.done[k] {
			break
		}
		last, ok = k, true
	}
	return last, ok
}

// Items implements Source.
func (s *offenseSource) Items(ctx context.Context) iter.Seq2[qradar.EnrichedOffense, error] {
	s.mu.Lock()
	from := s.from
	s.mu.Unlock()
	return func(yield func(qradar.EnrichedOffense, error) bool) {
		for e, err := range s.q.offenses(ctx, from) {
			if err == nil {
				s.mu.Lock()
				s.listed = append(s.listed, s.q.keyOf(&e.Offense))
				s.mu.Unlock()
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

// Ack implements Source: the offense was handled.
func (s *offenseSource) Ack(_ context.Context, e qradar.EnrichedOffense) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[s.q.keyOf(&e.Offense)] = true
	return nil
}

// Quarantine implements Source: the offense failed too often. It is logged
// and counted as handled, so that it no longer holds the watermark back;
// it is listed again when it changes.
func (s *offenseSource) Quarantine(ctx context.Context, e qradar.EnrichedOffense, reason string) error {
	if !s.scheduled {
		return nil // a one-off listing: the caller gets the error
	}
	s.q.cfg.Logger.LogAttrs(ctx, slog.LevelError, "offense set aside",
		slog.String("workflow", s.q.cfg.Name), slog.Int64("offense", int64(e.Offense.ID)), slog.String("reason", reason))
	return s.Ack(ctx, e)
}

// keyedMutex serialises work on equal keys. Its zero value is ready to use.
type keyedMutex struct {
	mu   sync.Mutex
	held map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{} // holds a token while the key is locked
	refs int
}

// lock waits until key is free or ctx ends and returns the unlock function.
func (l *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[string]*keyedEntry)
	}
	e := l.held[key]
	if e == nil {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		l.held[key] = e
	}
	e.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if e.refs--; e.refs == 0 {
			delete(l.held, key)
		}
	}
	select {
	case e.ch <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-e.ch
				release()
			})
		}, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
