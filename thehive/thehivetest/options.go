package thehivetest

import (
	"net/http"
	"time"
)

// An Option configures a Server created by New or NewServer.
type Option func(*config)

type config struct {
	users         []User
	customFields  []CustomField
	templates     []CaseTemplate
	analyzers     []Analyzer
	latency       time.Duration
	faults        Faults
	webhookURL    string
	webhookAuth   string
	webhookClient *http.Client
	clock         func() time.Time
	keepBytes     int64
}

func defaultConfig() config {
	return config{
		analyzers: DefaultAnalyzers(),
		clock:     time.Now,
		keepBytes: 1 << 20,
	}
}

// User describes a user account. Profile is one of TheHive's built-in
// profiles ("admin", "org-admin", "analyst", "read-only") or one created
// through the API; Organisation defaults to Organisation. An empty Password
// means AdminPassword; an empty APIKey means the user has no key.
type User struct {
	Login        string
	Name         string
	Email        string
	Profile      string
	Organisation string
	APIKey       string
	Password     string
	Locked       bool
}

// CustomField is the definition of a custom field (TheHive keeps them
// platform-wide). Type is one of "string", "integer", "float", "boolean",
// "date" and "url"; Options, when set, lists the accepted values.
type CustomField struct {
	Name        string
	DisplayName string
	Group       string
	Description string
	Type        string
	Options     []any
	Mandatory   bool
}

// CaseTemplate is a case template of Organisation. Severity 0 means none;
// CustomFields maps custom field names to their default values.
type CaseTemplate struct {
	Name         string
	DisplayName  string
	TitlePrefix  string
	Description  string
	Severity     int
	Flag         bool
	Summary      string
	Tags         []string
	Tasks        []TemplateTask
	CustomFields map[string]any
}

// TemplateTask is a task a case template adds to new cases.
type TemplateTask struct {
	Title       string
	Group       string
	Description string
	Mandatory   bool
}

// Analyzer is a Cortex analyzer the fake's connector offers. Its jobs
// complete at once with Report as the full report and Taxonomies as the
// summary written to the observable's reports; an empty Report produces a
// deterministic report of the observable's data.
type Analyzer struct {
	ID          string
	Name        string
	Version     string
	Description string
	DataTypes   []string
	Report      map[string]any
	Taxonomies  []Taxonomy
}

// Taxonomy is one summary entry of an analyzer report.
type Taxonomy struct {
	Level     string // info, safe, suspicious or malicious
	Namespace string
	Predicate string
	Value     string
}

// WithUser adds a user to the seeded ones.
func WithUser(u User) Option { return func(c *config) { c.users = append(c.users, u) } }

// WithCustomField adds a custom field definition.
func WithCustomField(f CustomField) Option {
	return func(c *config) { c.customFields = append(c.customFields, f) }
}

// WithCaseTemplate adds a case template to Organisation.
func WithCaseTemplate(t CaseTemplate) Option {
	return func(c *config) { c.templates = append(c.templates, t) }
}

// WithLatency makes every API request wait d before it is handled.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = max(d, 0) } }

// WithFaults injects faults from the start; see Faults.
func WithFaults(f Faults) Option { return func(c *config) { c.faults = f } }

// WithWebhook makes the server POST a TheHive 5 notification to url for
// every create, update and delete of cases, alerts, tasks, task logs,
// observables and comments, one at a time and in order, without retries.
// auth, when not empty, is sent verbatim as the Authorization header (for
// example "Bearer token"). Use Server.FlushWebhooks to wait for delivery.
func WithWebhook(url, auth string) Option {
	return func(c *config) { c.webhookURL, c.webhookAuth = url, auth }
}

// WithWebhookClient sets the HTTP client used to deliver webhooks (for a
// TLS endpoint, say); the default has a 10 s timeout.
func WithWebhookClient(hc *http.Client) Option { return func(c *config) { c.webhookClient = hc } }

// WithClock replaces the clock that stamps dates (_createdAt, startDate,
// ...), for reproducible output.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithAnalyzers replaces the canned Cortex analyzers (DefaultAnalyzers).
func WithAnalyzers(list ...Analyzer) Option { return func(c *config) { c.analyzers = list } }

// WithoutCortex makes the fake behave as a TheHive with no Cortex server:
// the analyzer lists are empty and jobs are accepted but stay Waiting, as in
// thehive4py's integration environment.
func WithoutCortex() Option { return func(c *config) { c.analyzers = nil } }

// WithKeptAttachmentBytes sets how large an uploaded file may be for the
// fake to keep its content (1 MiB by default). Larger files are hashed and
// counted while they stream in, but their bytes are dropped: their metadata
// is exact and downloading them answers 404.
func WithKeptAttachmentBytes(n int64) Option { return func(c *config) { c.keepBytes = max(n, 0) } }

// DefaultAnalyzers returns the canned analyzers of a new Server.
func DefaultAnalyzers() []Analyzer {
	return []Analyzer{
		{
			ID: "Abuse_Finder_3_0", Name: "Abuse_Finder", Version: "3.0",
			Description: "Find abuse contacts associated with domain names, URLs, IPs and email addresses.",
			DataTypes:   []string{"ip", "domain", "fqdn", "url", "mail"},
			Taxonomies:  []Taxonomy{{Level: "info", Namespace: "Abuse_Finder", Predicate: "Address", Value: "abuse@example.net"}},
		},
		{
			ID: "FileInfo_8_0", Name: "FileInfo", Version: "8.0",
			Description: "Parse files in several formats such as OLE and OpenXML to detect VBA macros, extract their source code, generate useful information on PE, PDF files...",
			DataTypes:   []string{"file"},
			Taxonomies:  []Taxonomy{{Level: "info", Namespace: "FileInfo", Predicate: "Filetype", Value: "data"}},
		},
		{
			ID: "VirusTotal_GetReport_3_1", Name: "VirusTotal_GetReport", Version: "3.1",
			Description: "Get the latest VirusTotal report for a file, hash, domain or an IP address.",
			DataTypes:   []string{"file", "hash", "domain", "fqdn", "ip", "url"},
			Taxonomies:  []Taxonomy{{Level: "safe", Namespace: "VT", Predicate: "GetReport", Value: "0/92"}},
		},
	}
}
