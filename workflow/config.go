package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the configuration of a synapse server, or of a one-shot run of
// its workflows: TheHive, any number of named sources (mailboxes, QRadar
// consoles) and any number of named workflows, each bound to a source with
// its own options. It is read from one YAML file by LoadConfig; values may
// name environment variables as ${NAME} or ${NAME:-default}, which is how
// secrets should be given. A commented sample is in examples/synapse.
type Config struct {
	// File is the path the configuration was read from.
	File string `yaml:"-"`
	// Server configures the HTTP API.
	Server ServerConfig `yaml:"server"`
	// TheHive says how to reach TheHive.
	TheHive TheHiveConfig `yaml:"thehive"`
	// Sources and Workflows are in the order of the file.
	Sources   []*SourceConfig   `yaml:"-"`
	Workflows []*WorkflowConfig `yaml:"-"`
}

// ServerConfig configures the synapse server's HTTP API.
type ServerConfig struct {
	// Listen is the address to serve on (default "127.0.0.1:5000").
	Listen string `yaml:"listen"`
	// APIToken is the bearer token the trigger endpoints require
	// (/ews2case, /QRadar2alert, /workflows/{name}/run, /workflows).
	APIToken Secret `yaml:"api_token"`
	// WebhookToken is the bearer token TheHive's webhook sends; or give
	// WebhookUser and WebhookPassword for basic authentication.
	WebhookToken    Secret `yaml:"webhook_token"`
	WebhookUser     string `yaml:"webhook_user"`
	WebhookPassword Secret `yaml:"webhook_password"`
	// MaxBodyBytes limits request bodies (default 4 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// LogFormat is "text" (default) or "json"; LogLevel is "debug", "info"
	// (default), "warn" or "error".
	LogFormat string `yaml:"log_format"`
	LogLevel  string `yaml:"log_level"`
	// ShutdownTimeout is how long a stopping server lets runs in progress
	// finish their current items (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// TheHiveConfig says how to reach TheHive.
type TheHiveConfig struct {
	// URL is TheHive's base URL, such as "https://thehive.example.org".
	URL string `yaml:"url"`
	// APIKey authenticates with a bearer API key; or give Username and
	// Password for basic authentication.
	APIKey   Secret `yaml:"api_key"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// Organisation is sent as X-Organisation; empty means the user's
	// default organisation.
	Organisation string `yaml:"organisation"`
	TLSSettings  `yaml:",inline"`
	// Timeout bounds each request attempt, body included (default 10m,
	// room for large attachments).
	Timeout time.Duration `yaml:"timeout"`
}

// TLSSettings are the TLS options of a connection.
type TLSSettings struct {
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's (a private CA).
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify turns certificate checks off. Never in production.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Source types.
const (
	SourceIMAP   = "imap"
	SourceEWS    = "ews"
	SourceGraph  = "graph"
	SourceQRadar = "qradar"
)

// SourceConfig is one named source. Exactly one of its type's sections is
// set, as its Type says.
type SourceConfig struct {
	// Name is the source's key in the file.
	Name string
	// Type is "imap", "ews", "graph" or "qradar".
	Type   string
	IMAP   *IMAPSourceConfig
	EWS    *EWSSourceConfig
	Graph  *GraphSourceConfig
	QRadar *QRadarSourceConfig
}

// MailboxSettings are the settings every mailbox source has.
type MailboxSettings struct {
	// Folders are the folder paths read, such as "Inbox/Phishing".
	Folders []string `yaml:"folders"`
	// Processed is what marking a message processed does (default: mark
	// it read); Quarantine what setting it aside does.
	Processed  *DispositionConfig `yaml:"processed"`
	Quarantine *DispositionConfig `yaml:"quarantine"`
	// Timeout bounds each request, body included (EWS, Graph).
	Timeout time.Duration `yaml:"timeout"`
}

// DispositionConfig is an ews.Disposition in the file.
type DispositionConfig struct {
	MarkRead bool   `yaml:"mark_read"`
	Category string `yaml:"category"`
	MoveTo   string `yaml:"move_to"`
}

// IMAPSourceConfig is a mailbox read over IMAP.
type IMAPSourceConfig struct {
	// Address is host:port.
	Address string `yaml:"address"`
	// TLS is "implicit" (default, port 993), "starttls" or "none".
	TLS         string `yaml:"tls"`
	TLSSettings `yaml:",inline"`
	Username    string `yaml:"username"`
	Password    Secret `yaml:"password"`
	// MaxConns bounds the connections (default 4).
	MaxConns        int `yaml:"max_conns"`
	MailboxSettings `yaml:",inline"`
}

// EWSSourceConfig is an Exchange mailbox read over EWS.
type EWSSourceConfig struct {
	// URL is the EWS endpoint (https://mail.example.org/EWS/Exchange.asmx).
	URL         string `yaml:"url"`
	TLSSettings `yaml:",inline"`
	// Auth is "ntlm" (default with a password), "basic" or "oauth2".
	Auth     string `yaml:"auth"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// OAuth2 holds the client credentials of "oauth2" authentication.
	OAuth2 *OAuth2Config `yaml:"oauth2"`
	// Mailbox is the SMTP address of a shared mailbox; Impersonate reads it
	// with ExchangeImpersonation instead of delegate access.
	Mailbox     string `yaml:"mailbox"`
	Impersonate bool   `yaml:"impersonate"`
	// ServerVersion is sent as RequestServerVersion.
	ServerVersion   string `yaml:"server_version"`
	MailboxSettings `yaml:",inline"`
}

// OAuth2Config is an OAuth2 client credentials grant.
type OAuth2Config struct {
	TokenURL     string   `yaml:"token_url"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
}

// GraphSourceConfig is an Exchange Online mailbox read through Microsoft
// Graph with an app's client credentials.
type GraphSourceConfig struct {
	TenantID     string `yaml:"tenant_id"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// User is the mailbox: a user principal name or SMTP address.
	User string `yaml:"user"`
	// TokenURL and BaseURL override Microsoft's endpoints (national clouds,
	// tests).
	TokenURL        string `yaml:"token_url"`
	BaseURL         string `yaml:"base_url"`
	TLSSettings     `yaml:",inline"`
	MailboxSettings `yaml:",inline"`
}

// QRadarSourceConfig is an IBM QRadar console.
type QRadarSourceConfig struct {
	// URL is the console's URL (https://qradar.example.org).
	URL string `yaml:"url"`
	// Token is an authorized service token (SEC header); or give Username
	// and Password.
	Token       Secret `yaml:"token"`
	Username    string `yaml:"username"`
	Password    Secret `yaml:"password"`
	TLSSettings `yaml:",inline"`
	// Version is the API version to ask for (the client's default when
	// empty).
	Version string `yaml:"version"`
	// Timeout bounds each request.
	Timeout time.Duration `yaml:"timeout"`
}

// Workflow types.
const (
	WorkflowEws2Case      = "ews2case"
	WorkflowEws2Alert     = "ews2alert"
	WorkflowQRadar2Alert  = "qradar2alert"
	WorkflowCloseOffenses = "close_offenses"
)

// WorkflowSettings are the settings every workflow has.
type WorkflowSettings struct {
	// Type is "ews2case", "ews2alert", "qradar2alert" or "close_offenses".
	Type string `yaml:"type"`
	// Source names the source the workflow reads.
	Source string `yaml:"source"`
	// Schedule runs the workflow on its own: "5m", "@every 1m", "*/10 * * *
	// *"; empty means only when triggered.
	Schedule string `yaml:"schedule"`
	// Concurrency is how many items are handled at once (default 4).
	Concurrency int `yaml:"concurrency"`
	// MaxAttempts quarantines an item after that many failures (default 3).
	MaxAttempts int `yaml:"max_attempts"`
}

// WorkflowConfig is one named workflow. Mail is set for ews2case and
// ews2alert, QRadar for qradar2alert, Close for close_offenses.
type WorkflowConfig struct {
	// Name is the workflow's key in the file.
	Name string
	WorkflowSettings
	Mail   *MailWorkflowConfig
	QRadar *QRadarWorkflowConfig
	Close  *CloseWorkflowConfig
}

// MailWorkflowConfig configures ews2case and ews2alert.
type MailWorkflowConfig struct {
	WorkflowSettings `yaml:",inline"`
	// Folders, Processed and Quarantine override the source's, so that
	// several workflows can read several folders of one mailbox.
	Folders    []string           `yaml:"folders"`
	Processed  *DispositionConfig `yaml:"processed"`
	Quarantine *DispositionConfig `yaml:"quarantine"`
	// Case, Owner and Alert configure what is created.
	Case  CaseConfig  `yaml:"case"`
	Owner OwnerConfig `yaml:"owner"`
	Alert AlertConfig `yaml:"alert"`
	// Observables says which observables are added.
	Observables ObservablesConfig `yaml:"observables"`
}

// CaseConfig holds the defaults of new cases.
type CaseConfig struct {
	Template    string   `yaml:"template"`
	TitlePrefix string   `yaml:"title_prefix"`
	Tags        []string `yaml:"tags"`
	// Severity is low, medium, high or critical; TLP clear, green, amber,
	// amber+strict or red; PAP clear, green, amber or red.
	Severity     string         `yaml:"severity"`
	TLP          string         `yaml:"tlp"`
	PAP          string         `yaml:"pap"`
	CustomFields map[string]any `yaml:"custom_fields"`
	// TaskTitle names the communication task (default "Communication").
	TaskTitle string `yaml:"task_title"`
}

// OwnerConfig is OwnerOptions in the file.
type OwnerConfig struct {
	Categories      map[string]string `yaml:"categories"`
	CategoryIsLogin bool              `yaml:"category_is_login"`
	Fallback        string            `yaml:"fallback"`
}

// AlertConfig holds the fields of new alerts (ews2alert).
type AlertConfig struct {
	Type         string         `yaml:"type"`
	Source       string         `yaml:"source"`
	Tags         []string       `yaml:"tags"`
	Severity     string         `yaml:"severity"`
	TLP          string         `yaml:"tlp"`
	PAP          string         `yaml:"pap"`
	CaseTemplate string         `yaml:"case_template"`
	CustomFields map[string]any `yaml:"custom_fields"`
}

// ObservablesConfig says which observables mail workflows add.
type ObservablesConfig struct {
	Tags []string `yaml:"tags"`
	TLP  string   `yaml:"tlp"`
	// SkipFiles adds no file observable; SkipInline leaves out inline
	// images; SkipReceived the relays of Received fields; Recipients adds
	// the recipients' addresses.
	SkipFiles    bool `yaml:"skip_files"`
	SkipInline   bool `yaml:"skip_inline"`
	SkipReceived bool `yaml:"skip_received"`
	Recipients   bool `yaml:"recipients"`
	// TrustedRelays are the organisation's own address ranges (CIDR).
	TrustedRelays []string `yaml:"trusted_relays"`
	// Allow drops matching observables (the organisation's own
	// infrastructure); Deny keeps and tags matching ones.
	Allow RulesConfig `yaml:"allow"`
	Deny  RulesConfig `yaml:"deny"`
}

// RulesConfig is a list of domains, networks (CIDR) and regular
// expressions.
type RulesConfig struct {
	Domains  []string `yaml:"domains"`
	Networks []string `yaml:"networks"`
	Patterns []string `yaml:"patterns"`
}

// LoadConfig reads and checks the configuration file at path. Environment
// variables are read with os.LookupEnv.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	return ParseConfig(path, data, osGetenv)
}

// maxConfigSize bounds a configuration file.
const maxConfigSize = 1 << 20

// ParseConfig parses and checks a configuration; file names it in errors
// and getenv resolves ${NAME} references (nil: no variables). Every
// problem found is reported, each as a *ConfigError naming the file, line
// and key; no error ever holds a value from the file.
func ParseConfig(file string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	if len(data) > maxConfigSize {
		return nil, &ConfigError{File: file, Msg: "the file is larger than 1 MiB"}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, &ConfigError{File: file, Msg: "not valid YAML: " + yamlSyntaxMessage(err)}
	}
	d := &decoder{file: file, getenv: getenv, places: map[string]*yaml.Node{}}
	cfg := &Config{File: file}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, &ConfigError{File: file, Line: doc.Line, Column: doc.Column, Msg: "want a mapping with thehive, sources and workflows"}
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "server":
			d.decode(v, reflect.ValueOf(&cfg.Server).Elem(), "server")
		case "thehive":
			d.decode(v, reflect.ValueOf(&cfg.TheHive).Elem(), "thehive")
		case "sources":
			cfg.Sources = d.sources(v)
		case "workflows":
			cfg.Workflows = d.workflows(v)
		default:
			d.fail(k, k.Value, "unknown section (known: server, thehive, sources, workflows)")
		}
	}
	cfg.check(d)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return cfg, nil
}

// yamlSyntaxMessage keeps the place of a YAML syntax error and drops any
// quoted content, which could be a secret.
func yamlSyntaxMessage(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.IndexAny(msg, "`'\""); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}

// named walks a mapping of named sections, calling fn for each.
func (d *decoder) named(n *yaml.Node, key string, fn func(name string, node *yaml.Node, typ string)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping of named %s", key)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := key + "." + k.Value
		if seen[k.Value] {
			d.fail(k, sub, "defined twice")
			continue
		}
		seen[k.Value] = true
		if v.Kind != yaml.MappingNode {
			d.fail(v, sub, "want a mapping of settings")
			continue
		}
		typ := ""
		for j := 0; j+1 < len(v.Content); j += 2 {
			if v.Content[j].Value == "type" {
				typ = d.expand(v.Content[j+1], sub+".type", v.Content[j+1].Value)
			}
		}
		fn(k.Value, v, typ)
	}
}

func (d *decoder) sources(n *yaml.Node) []*SourceConfig {
	var out []*SourceConfig
	d.named(n, "sources", func(name string, v *yaml.Node, typ string) {
		s := &SourceConfig{Name: name, Type: typ}
		key := "sources." + name
		// "type" is read above; each type's struct takes the other keys.
		body := withoutKey(v, "type")
		switch typ {
		case SourceIMAP:
			s.IMAP = &IMAPSourceConfig{}
			d.decode(body, reflect.ValueOf(s.IMAP).Elem(), key)
		case SourceEWS:
			s.EWS = &EWSSourceConfig{}
			d.decode(body, reflect.ValueOf(s.EWS).Elem(), key)
		case SourceGraph:
			s.Graph = &GraphSourceConfig{}
			d.decode(body, reflect.ValueOf(s.Graph).Elem(), key)
		case SourceQRadar:
			s.QRadar = &QRadarSourceConfig{}
			d.decode(body, reflect.ValueOf(s.QRadar).Elem(), key)
		case "":
			d.fail(v, key+".type", "missing (imap, ews, graph or qradar)")
		default:
			d.fail(v, key+".type", "unknown source type (imap, ews, graph or qradar)")
		}
		out = append(out, s)
	})
	return out
}

func (d *decoder) workflows(n *yaml.Node) []*WorkflowConfig {
	var out []*WorkflowConfig
	d.named(n, "workflows", func(name string, v *yaml.Node, typ string) {
		w := &WorkflowConfig{Name: name}
		key := "workflows." + name
		switch typ {
		case WorkflowEws2Case, WorkflowEws2Alert:
			w.Mail = &MailWorkflowConfig{}
			d.decode(v, reflect.ValueOf(w.Mail).Elem(), key)
			w.WorkflowSettings = w.Mail.WorkflowSettings
		case WorkflowQRadar2Alert:
			w.QRadar = &QRadarWorkflowConfig{}
			d.decode(v, reflect.ValueOf(w.QRadar).Elem(), key)
			w.WorkflowSettings = w.QRadar.WorkflowSettings
		case WorkflowCloseOffenses:
			w.Close = &CloseWorkflowConfig{}
			d.decode(v, reflect.ValueOf(w.Close).Elem(), key)
			w.WorkflowSettings = w.Close.WorkflowSettings
		case "":
			d.fail(v, key+".type", "missing (ews2case, ews2alert, qradar2alert or close_offenses)")
		default:
			d.fail(v, key+".type", "unknown workflow type (ews2case, ews2alert, qradar2alert or close_offenses)")
		}
		out = append(out, w)
	})
	return out
}

// withoutKey returns a copy of mapping n without key.
func withoutKey(n *yaml.Node, key string) *yaml.Node {
	c := *n
	c.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			c.Content = append(c.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &c
}

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *SourceConfig {
	for _, s := range c.Sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Workflow returns the workflow named name, or nil.
func (c *Config) Workflow(name string) *WorkflowConfig {
	for _, w := range c.Workflows {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// check reports the semantic problems of a decoded configuration.
func (c *Config) check(d *decoder) {
	th := c.TheHive
	if th.URL == "" {
		d.failAt("thehive", "thehive.url is required")
	} else if !strings.HasPrefix(th.URL, "http://") && !strings.HasPrefix(th.URL, "https://") {
		d.failAt("thehive.url", "want an http:// or https:// URL")
	}
	if th.APIKey == "" && (th.Username == "" || th.Password == "") && !d.failed["thehive.api_key"] && !d.failed["thehive.password"] {
		d.failAt("thehive", "give api_key, or username and password")
	}
	if f := c.Server.LogFormat; f != "" && f != "text" && f != "json" {
		d.failAt("server.log_format", "want text or json")
	}
	if l := c.Server.LogLevel; l != "" && !slices.Contains([]string{"debug", "info", "warn", "error"}, l) {
		d.failAt("server.log_level", "want debug, info, warn or error")
	}
	for _, s := range c.Sources {
		s.check(d)
	}
	for _, w := range c.Workflows {
		c.checkWorkflow(d, w)
	}
}

func (s *SourceConfig) check(d *decoder) {
	key := "sources." + s.Name
	need := func(sub, what string, ok bool) {
		if !ok && !d.failed[key+"."+sub] {
			d.failAt(key, "%s is required (%s)", sub, what)
		}
	}
	switch {
	case s.IMAP != nil:
		need("address", "host:port", s.IMAP.Address != "")
		need("username", "the login", s.IMAP.Username != "")
		need("password", "the password", s.IMAP.Password != "")
		if t := s.IMAP.TLS; t != "" && !slices.Contains([]string{"implicit", "starttls", "none"}, t) {
			d.failAt(key+".tls", "want implicit, starttls or none")
		}
	case s.EWS != nil:
		need("url", "the EWS endpoint", s.EWS.URL != "")
		switch s.EWS.Auth {
		case "", "ntlm", "basic":
			need("username", "the account", s.EWS.Username != "")
			need("password", "the password", s.EWS.Password != "")
		case "oauth2":
			need("oauth2", "token_url, client_id and client_secret", s.EWS.OAuth2 != nil &&
				s.EWS.OAuth2.TokenURL != "" && s.EWS.OAuth2.ClientID != "" && s.EWS.OAuth2.ClientSecret != "")
		default:
			d.failAt(key+".auth", "want ntlm, basic or oauth2")
		}
	case s.Graph != nil:
		need("tenant_id", "the directory id", s.Graph.TenantID != "")
		need("client_id", "the application id", s.Graph.ClientID != "")
		need("client_secret", "the application secret", s.Graph.ClientSecret != "")
		need("user", "the mailbox", s.Graph.User != "")
	case s.QRadar != nil:
		need("url", "the console URL", s.QRadar.URL != "")
		need("token", "an authorized service token, or username and password",
			s.QRadar.Token != "" || (s.QRadar.Username != "" && s.QRadar.Password != ""))
	}
	if m := s.mailboxSettings(); m != nil {
		need("folders", "the folders to read", len(m.Folders) > 0)
	}
}

func (c *Config) checkWorkflow(d *decoder, w *WorkflowConfig) {
	key := "workflows." + w.Name
	if _, err := ParseSchedule(w.Schedule); err != nil {
		d.failAt(key+".schedule", "want a duration (5m), a descriptor (@every 1m, @hourly) or a cron expression")
	}
	if w.Concurrency < 0 || w.Concurrency > 256 {
		d.failAt(key+".concurrency", "want a number from 1 to 256")
	}
	wantSource := map[string][]string{
		WorkflowEws2Case:      {SourceIMAP, SourceEWS, SourceGraph},
		WorkflowEws2Alert:     {SourceIMAP, SourceEWS, SourceGraph},
		WorkflowQRadar2Alert:  {SourceQRadar},
		WorkflowCloseOffenses: {SourceQRadar},
	}[w.Type]
	if w.Close != nil {
		for _, name := range w.Close.sourceNames() {
			c.checkSourceRef(d, key+".sources", name, wantSource)
		}
	} else if wantSource != nil {
		c.checkSourceRef(d, key+".source", w.Source, wantSource)
	}
	if m := w.Mail; m != nil {
		if src := c.Source(w.Source); src != nil && m.Quarantine == nil && src.mailboxSettings() != nil && src.mailboxSettings().Quarantine == nil {
			d.failAt(key, "quarantine is required here or on source %s: a message that keeps failing must be set aside (a category, a keyword or a folder)", w.Source)
		}
		checkLevel(d, key+".case.severity", m.Case.Severity, severityNames)
		checkLevel(d, key+".case.tlp", m.Case.TLP, tlpNames)
		checkLevel(d, key+".case.pap", m.Case.PAP, papNames)
		checkLevel(d, key+".alert.severity", m.Alert.Severity, severityNames)
		checkLevel(d, key+".alert.tlp", m.Alert.TLP, tlpNames)
		checkLevel(d, key+".alert.pap", m.Alert.PAP, papNames)
		checkLevel(d, key+".observables.tlp", m.Observables.TLP, tlpNames)
		if _, err := m.Observables.extractOptions(); err != nil {
			d.failAt(key+".observables", "%v", err)
		}
	}
	if q := w.QRadar; q != nil {
		q.check(d, key)
	}
	if cl := w.Close; cl != nil {
		cl.check(d, key)
	}
}

// mailboxSettings returns the mailbox settings of a mailbox source, or nil.
func (s *SourceConfig) mailboxSettings() *MailboxSettings {
	switch {
	case s.IMAP != nil:
		return &s.IMAP.MailboxSettings
	case s.EWS != nil:
		return &s.EWS.MailboxSettings
	case s.Graph != nil:
		return &s.Graph.MailboxSettings
	}
	return nil
}

// tlsSettings returns the TLS settings of a source.
func (s *SourceConfig) tlsSettings() TLSSettings {
	switch {
	case s.IMAP != nil:
		return s.IMAP.TLSSettings
	case s.EWS != nil:
		return s.EWS.TLSSettings
	case s.Graph != nil:
		return s.Graph.TLSSettings
	case s.QRadar != nil:
		return s.QRadar.TLSSettings
	}
	return TLSSettings{}
}

func (c *Config) checkSourceRef(d *decoder, key, name string, types []string) {
	if name == "" {
		d.failAt(key, "names no source")
		return
	}
	s := c.Source(name)
	switch {
	case s == nil:
		d.failAt(key, "no source is named so")
	case s.Type != "" && !slices.Contains(types, s.Type):
		d.failAt(key, "names a %s source; this workflow reads %s sources", s.Type, strings.Join(types, " or "))
	}
}

var (
	severityNames = []string{"low", "medium", "high", "critical"}
	tlpNames      = []string{"clear", "green", "amber", "amber+strict", "red"}
	papNames      = []string{"clear", "green", "amber", "red"}
)

func checkLevel(d *decoder, key, v string, names []string) {
	if v != "" && !slices.Contains(names, strings.ToLower(v)) {
		d.failAt(key, "want one of %s", strings.Join(names, ", "))
	}
}
