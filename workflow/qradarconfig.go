package workflow

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// QRadarSourcePrefix starts the source of every alert QRadar2Alert
// creates. It is the original Synapse's source, "QRadar_Offenses".
const QRadarSourcePrefix = "QRadar_Offenses"

// QRadarAlertSource returns the alert source of the QRadar instance named
// instance: "QRadar_Offenses:<instance>", or "QRadar_Offenses" alone for an
// unnamed instance (the original Synapse's alerts). Together with the alert
// type and the offense id as sourceRef, it identifies an offense's alert,
// so several QRadar consoles can feed one TheHive.
func QRadarAlertSource(instance string) string {
	if instance == "" {
		return QRadarSourcePrefix
	}
	return QRadarSourcePrefix + ":" + instance
}

// Defaults of QRadarConfig.
const (
	// DefaultQRadarAlertType is the type of the alerts, as in the original.
	DefaultQRadarAlertType = "internal"
	// DefaultQRadarLookback is how far back the first scheduled run looks.
	DefaultQRadarLookback = 24 * time.Hour
	// DefaultQRadarEventLimit is how many events an alert shows, as in the
	// original.
	DefaultQRadarEventLimit = 3
	// DefaultQRadarRemoteDestinationLimit is how many remote destinations
	// are read per offense.
	DefaultQRadarRemoteDestinationLimit = 20
	// DefaultQRadarSearchTimeout bounds each Ariel search.
	DefaultQRadarSearchTimeout = 2 * time.Minute
)

// Watermark fields an offense list can be ordered and filtered on.
const (
	// WatermarkLastPersisted is "last_persisted_time", when QRadar last
	// wrote the offense (new events, a new magnitude, a status change). It
	// only grows, so nothing is missed: the default.
	WatermarkLastPersisted = "last_persisted_time"
	// WatermarkLastUpdated is "last_updated_time", the time of the
	// offense's latest event, which the original Synapse filtered on. An
	// event that arrives late can leave it behind a watermark already
	// passed.
	WatermarkLastUpdated = "last_updated_time"
)

// QRadarConfig configures QRadar2Alert. The zero value works and behaves as
// the original Synapse where it had a behaviour: open offenses, "internal"
// alerts from "QRadar_Offenses", three events, QRadar severities 1–4 low,
// 5–6 medium and 7–10 high. Every field can be set from a configuration file.
type QRadarConfig struct {
	// Name names the workflow in logs, reports and the scheduler (default
	// "qradar2alert").
	Name string
	// Instance names the QRadar console. It is part of the alerts' source
	// (see QRadarAlertSource), tags each alert "qradar:<instance>" and
	// appears in the alert's summary, so that several consoles can feed one
	// TheHive. Empty keeps the original's source, "QRadar_Offenses".
	Instance string
	// ConsoleURL is the console's address, "https://qradar.example.com",
	// for the link from each alert back to its offense. Empty leaves the
	// link out.
	ConsoleURL string

	// Statuses are the statuses of the offenses listed: OPEN, HIDDEN or
	// CLOSED (default OPEN only, as the original).
	Statuses []string
	// WatermarkField is the offense time that orders the offenses and that
	// scheduled runs compare with their watermark: WatermarkLastPersisted
	// (default) or WatermarkLastUpdated. The timerange call filters on it
	// too.
	WatermarkField string
	// Lookback is how far back the first scheduled run looks (default
	// DefaultQRadarLookback); later runs take the offenses changed since
	// the last one. See QRadar2Alert.SetWatermark.
	Lookback time.Duration
	// PageSize is the number of offenses asked for per request (default
	// qradar.DefaultPageSize). The offenses of a page are enriched
	// together: their types, addresses, rules and domains are resolved in
	// a few batched requests.
	PageSize int

	// EventsQuery is the AQL query that reads an offense's first events,
	// shown in the alert. Placeholders are replaced for each offense:
	// {offense_id}; {start} and {stop}, a minute before and five minutes
	// after the offense's start (epoch milliseconds); {start_time} and
	// {last_updated_time}, the offense's own times (epoch milliseconds);
	// {limit}, EventLimit. It must name {offense_id}. The default is
	// qradar.OffenseEventsAQL: time, event name, log source, addresses,
	// user name and payload of the first events, oldest first.
	EventsQuery string
	// EventLimit is how many events are read (default
	// DefaultQRadarEventLimit); a negative number reads none.
	EventLimit int
	// RemoteDestinationLimit is how many remote destination addresses are
	// read from an offense's events (default
	// DefaultQRadarRemoteDestinationLimit); a negative number reads none.
	// Offenses without remote destinations cost no search.
	RemoteDestinationLimit int
	// SearchTimeout bounds each Ariel search (default
	// DefaultQRadarSearchTimeout). SearchPollInterval is the first pause
	// between two reads of a search's status (default
	// qradar.DefaultWaitMinInterval), doubling up to five seconds.
	SearchTimeout      time.Duration
	SearchPollInterval time.Duration

	// Severity maps an offense to the alert's severity.
	Severity SeverityMapping
	// Type is the alerts' type (default DefaultQRadarAlertType).
	Type string
	// Source overrides the alerts' source, QRadarAlertSource(Instance).
	Source string
	// Tags are added to every alert, after "QRadar", "Offense" and
	// "Synapse", the offense's categories, "domain:<name>" and
	// "qradar:<instance>".
	Tags []string
	// TitlePrefix is put before the offense's description in the title.
	TitlePrefix string
	// CaseTemplate is the name of the case template a case made from the
	// alert takes.
	CaseTemplate string
	// TLP and PAP of the alerts; TheHive's default (amber) when nil.
	TLP *thehive.TLP
	PAP *thehive.PAP
	// ObservableTags are added to every observable.
	ObservableTags []string
	// UsernameDataType is the observable type of user names (default
	// "other", tagged "type:username", since TheHive has no user name type
	// unless one is added).
	UsernameDataType string
	// SkipUpdates leaves the alert of an offense that changed as it is, as
	// the original did. By default the alert is updated: title,
	// description, severity, new tags and new observables.
	SkipUpdates bool

	// StepRetry retries each step on transient errors (see RetryPolicy for
	// the defaults); StepTimeout bounds each attempt (default 5 minutes).
	StepRetry   RetryPolicy
	StepTimeout time.Duration
	// Concurrency is how many offenses are handled at once (default 4).
	Concurrency int
	// MaxAttempts sets an offense aside after that many permanent failures
	// (default 3); RetryWait is the first wait between them (default 1s).
	MaxAttempts int
	RetryWait   time.Duration
	// Logger receives the workflow's records; nil discards them.
	Logger *slog.Logger
}

// SeverityMapping maps a QRadar offense to a TheHive severity.
type SeverityMapping struct {
	// Field is the offense value mapped, from 0 to 10: "severity" (default,
	// as the original) or "magnitude".
	Field string
	// Medium, High and Critical are the lowest values given TheHive's
	// medium, high and critical severities; lower values are low. Zero
	// means the default: 5 for medium, 7 for high and never critical.
	Medium, High, Critical int
}

// Map returns the severity of o.
func (m SeverityMapping) Map(o *qradar.Offense) thehive.Severity {
	m = m.withDefaults()
	v := o.Severity
	if m.Field == "magnitude" {
		v = o.Magnitude
	}
	switch {
	case m.Critical > 0 && v >= m.Critical:
		return thehive.SeverityCritical
	case v >= m.High:
		return thehive.SeverityHigh
	case v >= m.Medium:
		return thehive.SeverityMedium
	}
	return thehive.SeverityLow
}

func (m SeverityMapping) withDefaults() SeverityMapping {
	if m.Field == "" {
		m.Field = "severity"
	}
	if m.Medium == 0 {
		m.Medium = 5
	}
	if m.High == 0 {
		m.High = 7
	}
	return m
}

func (m SeverityMapping) validate() error {
	d := m.withDefaults()
	if d.Field != "severity" && d.Field != "magnitude" {
		return qradarConfigError("Severity.Field", "%q is neither \"severity\" nor \"magnitude\"", m.Field)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Medium", d.Medium}, {"High", d.High}, {"Critical", d.Critical}} {
		if f.v < 0 || f.v > 10 {
			return qradarConfigError("Severity."+f.name, "%d is outside 0 to 10", f.v)
		}
	}
	if d.Medium > d.High || (d.Critical > 0 && d.High > d.Critical) {
		return qradarConfigError("Severity", "the thresholds must grow: medium %d, high %d, critical %d", d.Medium, d.High, d.Critical)
	}
	return nil
}

// QRadarConfigError is a setting of QRadarConfig or CloseOffenseConfig
// that cannot be used. Field is the Go name of the setting, so that a
// configuration file loader can point at the key it came from.
type QRadarConfigError struct {
	// Config is the configuration's type, "QRadarConfig" or
	// "CloseOffenseConfig".
	Config string
	// Field is the setting's name ("Statuses", "Severity.High").
	Field string
	// Problem says what is wrong with it.
	Problem string
}

// Error implements error.
func (e *QRadarConfigError) Error() string {
	return "workflow: " + e.Config + "." + e.Field + ": " + e.Problem
}

func qradarConfigError(field, format string, args ...any) error {
	return &QRadarConfigError{Config: "QRadarConfig", Field: field, Problem: fmt.Sprintf(format, args...)}
}

// eventsPlaceholder finds the placeholders of an events query.
var eventsPlaceholder = regexp.MustCompile(`\{[a-z_]+\}`)

var eventsPlaceholders = []string{"{offense_id}", "{start}", "{stop}", "{start_time}", "{last_updated_time}", "{limit}"}

// withDefaults returns c with its defaults applied, or the first field that
// is wrong.
func (c QRadarConfig) withDefaults() (QRadarConfig, error) {
	if c.Name == "" {
		c.Name = "qradar2alert"
	}
	c.ConsoleURL = strings.TrimRight(c.ConsoleURL, "/")
	if c.ConsoleURL != "" && !strings.HasPrefix(c.ConsoleURL, "https://") && !strings.HasPrefix(c.ConsoleURL, "http://") {
		return c, qradarConfigError("ConsoleURL", "%q is not an http or https URL", c.ConsoleURL)
	}
	if len(c.Statuses) == 0 {
		c.Statuses = []string{string(qradar.StatusOpen)}
	}
	c.Statuses = slices.Clone(c.Statuses)
	for i, s := range c.Statuses {
		c.Statuses[i] = strings.ToUpper(strings.TrimSpace(s))
		switch qradar.OffenseStatus(c.Statuses[i]) {
		case qradar.StatusOpen, qradar.StatusHidden, qradar.StatusClosed:
		default:
			return c, qradarConfigError("Statuses", "%q is not OPEN, HIDDEN or CLOSED", s)
		}
	}
	slices.Sort(c.Statuses)
	c.Statuses = slices.Compact(c.Statuses)
	switch c.WatermarkField {
	case "":
		c.WatermarkField = WatermarkLastPersisted
	case WatermarkLastPersisted, WatermarkLastUpdated:
	default:
		return c, qradarConfigError("WatermarkField", "%q is neither %s nor %s", c.WatermarkField, WatermarkLastPersisted, WatermarkLastUpdated)
	}
	if c.Lookback < 0 {
		return c, qradarConfigError("Lookback", "negative")
	}
	if c.Lookback == 0 {
		c.Lookback = DefaultQRadarLookback
	}
	if c.PageSize < 0 {
		return c, qradarConfigError("PageSize", "negative")
	}
	if c.PageSize == 0 {
		c.PageSize = qradar.DefaultPageSize
	}
	if c.EventLimit == 0 {
		c.EventLimit = DefaultQRadarEventLimit
	}
	if c.RemoteDestinationLimit == 0 {
		c.RemoteDestinationLimit = DefaultQRadarRemoteDestinationLimit
	}
	if q := strings.TrimSpace(c.EventsQuery); q != "" {
		if !strings.Contains(q, "{offense_id}") {
			return c, qradarConfigError("EventsQuery", "the query must name {offense_id}, or every offense would show the same events")
		}
		for _, p := range eventsPlaceholder.FindAllString(q, -1) {
			if !slices.Contains(eventsPlaceholders, p) {
				return c, qradarConfigError("EventsQuery", "unknown placeholder %s (known: %s)", p, strings.Join(eventsPlaceholders, ", "))
			}
		}
		c.EventsQuery = q
	}
	if c.SearchTimeout < 0 {
		return c, qradarConfigError("SearchTimeout", "negative")
	}
	if c.SearchPollInterval < 0 {
		return c, qradarConfigError("SearchPollInterval", "negative")
	}
	if c.SearchTimeout == 0 {
		c.SearchTimeout = DefaultQRadarSearchTimeout
	}
	if c.SearchPollInterval == 0 {
		c.SearchPollInterval = qradar.DefaultWaitMinInterval
	}
	if err := c.Severity.validate(); err != nil {
		return c, err
	}
	c.Severity = c.Severity.withDefaults()
	if c.Type == "" {
		c.Type = DefaultQRadarAlertType
	}
	if c.Source == "" {
		c.Source = QRadarAlertSource(c.Instance)
	}
	if c.UsernameDataType == "" {
		c.UsernameDataType = thehive.DataOther
	}
	if c.TLP != nil && (*c.TLP < thehive.TLPClear || *c.TLP > thehive.TLPRed) {
		return c, qradarConfigError("TLP", "%d is outside 0 to 4", *c.TLP)
	}
	if c.PAP != nil && (*c.PAP < 0 || *c.PAP > 3) {
		return c, qradarConfigError("PAP", "%d is outside 0 to 3", *c.PAP)
	}
	if c.StepTimeout < 0 {
		return c, qradarConfigError("StepTimeout", "negative")
	}
	if c.RetryWait < 0 {
		return c, qradarConfigError("RetryWait", "negative")
	}
	if c.StepTimeout == 0 {
		c.StepTimeout = 5 * time.Minute
	}
	if c.Concurrency < 0 {
		return c, qradarConfigError("Concurrency", "negative")
	}
	if c.MaxAttempts < 0 {
		return c, qradarConfigError("MaxAttempts", "negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// eventsAQL returns the events query of o.
func (c *QRadarConfig) eventsAQL(o *qradar.Offense) string {
	if c.EventsQuery == "" {
		return qradar.OffenseEventsAQL(o.ID, o.StartTime, c.EventLimit)
	}
	ms := func(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }
	return strings.NewReplacer(
		"{offense_id}", fmt.Sprint(int64(o.ID)),
		"{start}", ms(o.StartTime.Add(-time.Minute)),
		"{stop}", ms(o.StartTime.Add(5*time.Minute)),
		"{start_time}", ms(o.StartTime),
		"{last_updated_time}", ms(o.LastUpdatedTime),
		"{limit}", fmt.Sprint(c.EventLimit),
	).Replace(c.EventsQuery)
}
