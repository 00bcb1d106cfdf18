package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// QRadarWorkflowConfig configures a qradar2alert workflow: QRadarConfig in
// the file.
type QRadarWorkflowConfig struct {
	WorkflowSettings `yaml:",inline"`
	// Statuses are the statuses of the offenses listed (default [OPEN]).
	Statuses []string `yaml:"statuses"`
	// WatermarkField is last_persisted_time (default) or last_updated_time.
	WatermarkField string `yaml:"watermark_field"`
	// Lookback is how far back the first run looks (default 24h).
	Lookback time.Duration `yaml:"lookback"`
	PageSize int           `yaml:"page_size"`
	// EventsQuery is the AQL of an offense's first events, with
	// placeholders {offense_id}, {start}, {stop}, {limit}...
	EventsQuery            string        `yaml:"events_query"`
	EventLimit             int           `yaml:"event_limit"`
	RemoteDestinationLimit int           `yaml:"remote_destination_limit"`
	SearchTimeout          time.Duration `yaml:"search_timeout"`
	// Severity maps the offense's severity (or magnitude) to TheHive's.
	Severity SeverityConfig `yaml:"severity"`
	// Alert holds the alerts' fields.
	Alert QRadarAlertConfig `yaml:"alert"`
	// ObservableTags are added to every observable; UsernameDataType is
	// the type of user names (default "other").
	ObservableTags   []string `yaml:"observable_tags"`
	UsernameDataType string   `yaml:"username_data_type"`
	// SkipUpdates leaves the alert of a changed offense as it is.
	SkipUpdates bool `yaml:"skip_updates"`
}

// SeverityConfig is SeverityMapping in the file.
type SeverityConfig struct {
	Field    string `yaml:"field"`
	Medium   int    `yaml:"medium"`
	High     int    `yaml:"high"`
	Critical int    `yaml:"critical"`
}

// QRadarAlertConfig holds the fields of the alerts QRadar2Alert creates.
type QRadarAlertConfig struct {
	Type         string   `yaml:"type"`
	Source       string   `yaml:"source"`
	Tags         []string `yaml:"tags"`
	TitlePrefix  string   `yaml:"title_prefix"`
	CaseTemplate string   `yaml:"case_template"`
	TLP          string   `yaml:"tlp"`
	PAP          string   `yaml:"pap"`
}

// CloseWorkflowConfig configures a close_offenses workflow: closing QRadar
// offenses when TheHive closes their case, on TheHive's webhook.
type CloseWorkflowConfig struct {
	WorkflowSettings `yaml:",inline"`
	// Sources names the QRadar sources whose offenses are closed (default:
	// the one named by source).
	Sources []string `yaml:"sources"`
	// ClosingReasons maps a TheHive resolution (TruePositive,
	// FalsePositive...) to a QRadar closing reason's name;
	// DefaultClosingReason names the others' (default "Non-Issue").
	ClosingReasons       map[string]string `yaml:"closing_reasons"`
	DefaultClosingReason string            `yaml:"default_closing_reason"`
	// CloseOnAlertIgnored also closes the offense of an alert closed
	// without becoming a case.
	CloseOnAlertIgnored bool `yaml:"close_on_alert_ignored"`
	// SkipNote closes offenses without a note.
	SkipNote bool `yaml:"skip_note"`
}

func (c *CloseWorkflowConfig) sourceNames() []string {
	if len(c.Sources) > 0 {
		return c.Sources
	}
	return []string{c.Source}
}

// qradarKeys maps QRadarConfig's fields to their keys in the file.
var qradarKeys = map[string]string{
	"Statuses": "statuses", "WatermarkField": "watermark_field", "Lookback": "lookback",
	"PageSize": "page_size", "EventsQuery": "events_query", "EventLimit": "event_limit",
	"RemoteDestinationLimit": "remote_destination_limit", "SearchTimeout": "search_timeout",
	"Severity": "severity", "Severity.Field": "severity.field", "Severity.Medium": "severity.medium",
	"Severity.High": "severity.high", "Severity.Critical": "severity.critical",
	"Type": "alert.type", "Source": "alert.source", "Tags": "alert.tags", "TitlePrefix": "alert.title_prefix",
	"CaseTemplate": "alert.case_template", "ObservableTags": "observable_tags",
	"UsernameDataType": "username_data_type", "ConsoleURL": "source",
}

// config returns the QRadarConfig of the workflow reading source s.
func (q *QRadarWorkflowConfig) config(name string, s *SourceConfig, logger *slog.Logger) QRadarConfig {
	cfg := QRadarConfig{
		Name:                   name,
		Statuses:               q.Statuses,
		WatermarkField:         q.WatermarkField,
		Lookback:               q.Lookback,
		PageSize:               q.PageSize,
		EventsQuery:            q.EventsQuery,
		EventLimit:             q.EventLimit,
		RemoteDestinationLimit: q.RemoteDestinationLimit,
		SearchTimeout:          q.SearchTimeout,
		Severity:               SeverityMapping(q.Severity),
		Type:                   q.Alert.Type,
		Source:                 q.Alert.Source,
		Tags:                   q.Alert.Tags,
		TitlePrefix:            q.Alert.TitlePrefix,
		CaseTemplate:           q.Alert.CaseTemplate,
		TLP:                    tlpOf(q.Alert.TLP),
		PAP:                    papOf(q.Alert.PAP),
		ObservableTags:         q.ObservableTags,
		UsernameDataType:       q.UsernameDataType,
		SkipUpdates:            q.SkipUpdates,
		Concurrency:            q.Concurrency,
		MaxAttempts:            q.MaxAttempts,
		Logger:                 logger,
	}
	if s != nil && s.QRadar != nil {
		cfg.Instance, cfg.ConsoleURL = s.Name, s.QRadar.URL
	}
	return cfg
}

func (q *QRadarWorkflowConfig) check(d *decoder, key string) {
	checkLevel(d, key+".alert.tlp", q.Alert.TLP, tlpNames)
	checkLevel(d, key+".alert.pap", q.Alert.PAP, papNames)
	if _, err := q.config("", nil, nil).withDefaults(); err != nil {
		var ce *QRadarConfigError
		if errors.As(err, &ce) {
			sub := qradarKeys[ce.Field]
			if sub == "" {
				sub = ce.Field
			}
			d.failAt(key+"."+sub, "%s", ce.Problem)
		}
	}
}

func (c *CloseWorkflowConfig) check(d *decoder, key string) {
	for resolution, reason := range c.ClosingReasons {
		if strings.TrimSpace(resolution) == "" || strings.TrimSpace(reason) == "" {
			d.failAt(key+".closing_reasons", "a resolution or a reason is empty")
		}
	}
}

// QRadarClient returns a client for the QRadar source named name.
func (c *Config) QRadarClient(name string, logger *slog.Logger) (*qradar.Client, error) {
	s := c.Source(name)
	if s == nil || s.QRadar == nil {
		return nil, fmt.Errorf("no QRadar source named %q", name)
	}
	x := s.QRadar
	opts := []qradar.Option{qradar.WithUserAgent("synapse")}
	if x.Token != "" {
		opts = append(opts, qradar.WithToken(x.Token.Reveal()))
	} else {
		opts = append(opts, qradar.WithBasicAuth(x.Username, x.Password.Reveal()))
	}
	if x.Version != "" {
		opts = append(opts, qradar.WithVersion(x.Version))
	}
	if x.Timeout > 0 {
		opts = append(opts, qradar.WithTimeout(x.Timeout))
	}
	tc, err := x.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	if tc != nil {
		opts = append(opts, qradar.WithTLSConfig(tc))
	}
	if logger != nil {
		opts = append(opts, qradar.WithLogger(logger))
	}
	return qradar.NewClient(x.URL, opts...)
}

// qradarClient returns the app's client of a QRadar source, made once.
func (a *App) qradarClient(name string) (*qradar.Client, error) {
	if c := a.qradars[name]; c != nil {
		return c, nil
	}
	c, err := a.cfg.QRadarClient(name, a.logger.With("client", "qradar", "source", name))
	if err != nil {
		return nil, err
	}
	a.qradars[name] = c
	return c, nil
}

func (a *App) addQRadar(w *WorkflowConfig, logger *slog.Logger) error {
	qr, err := a.qradarClient(w.Source)
	if err != nil {
		return err
	}
	job, err := NewQRadar2Alert(qr, a.th, w.QRadar.config(w.Name, a.cfg.Source(w.Source), logger))
	if err != nil {
		return err
	}
	a.qradarJobs = append(a.qradarJobs, job)
	return a.sched.Add(a.instrument(w.Name, job.Run), w.Schedule)
}

// QRadar2Alert returns the qradar2alert workflow named name, or nil.
func (a *App) QRadar2Alert(name string) *QRadar2Alert {
	for _, j := range a.qradarJobs {
		if j.Name() == name {
			return j
		}
	}
	return nil
}

// QRadarTimerange is the original POST /QRadar2alert: every qradar2alert
// workflow takes the offenses changed in the last d, and their answers are
// joined into the original's response.
func (a *App) QRadarTimerange(ctx context.Context, d time.Duration) QRadar2AlertResponse {
	all := QRadar2AlertResponse{Success: true, Offenses: []QRadar2AlertOffense{}}
	for _, job := range a.qradarJobs {
		results, err := job.RunTimerange(ctx, d)
		resp := NewQRadar2AlertResponse(results, err)
		all.Offenses = append(all.Offenses, resp.Offenses...)
		if !resp.Success {
			all.Success = false
			if all.Message == "" {
				all.Message = resp.Message
			}
		}
	}
	return all
}

func (a *App) addCloser(w *WorkflowConfig, logger *slog.Logger) error {
	cl := w.Close
	cfg := CloseOffenseConfig{
		Name:                 w.Name,
		ClosingReasons:       cl.ClosingReasons,
		DefaultClosingReason: cl.DefaultClosingReason,
		CloseOnAlertIgnored:  cl.CloseOnAlertIgnored,
		SkipNote:             cl.SkipNote,
		Logger:               logger,
	}
	for _, name := range cl.sourceNames() {
		qr, err := a.qradarClient(name)
		if err != nil {
			return err
		}
		source := QRadarAlertSource(name)
		// A qradar2alert workflow of that source may set its own alert
		// source: close the offenses of those alerts.
		for _, other := range a.cfg.Workflows {
			if other.QRadar != nil && other.Source == name && other.QRadar.Alert.Source != "" {
				source = other.QRadar.Alert.Source
			}
		}
		cfg.Instances = append(cfg.Instances, QRadarInstance{Source: source, Client: qr})
	}
	closer, err := NewOffenseCloser(a.th, cfg)
	if err != nil {
		return err
	}
	a.closersByName = append(a.closersByName, closer)
	a.webhook = a.handleEvent
	return nil
}

// handleEvent hands a TheHive notification to every close_offenses
// workflow; the answer says whether offenses were concerned.
func (a *App) handleEvent(ctx context.Context, e *thehive.Event) (string, error) {
	action := ActionNone
	var errs []error
	for _, c := range a.closersByName {
		res, err := c.Handle(ctx, e)
		if err != nil {
			errs = append(errs, err)
		}
		if res.Action != ActionNone && res.Action != "" {
			action = res.Action
		}
	}
	return action, errors.Join(errs...)
}
