package workflow

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/observable"
	"github.com/synapse-go/synapse/thehive"
)

// tlsConfig builds the TLS configuration of t, or nil for Go's defaults.
func (t TLSSettings) tlsConfig() (*tls.Config, error) {
	if t.CAFile == "" && !t.InsecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// TheHiveClient returns a client for the configured TheHive.
func (c *Config) TheHiveClient(logger *slog.Logger) (*thehive.Client, error) {
	t := c.TheHive
	opts := []thehive.Option{thehive.WithUserAgent("synapse")}
	if t.APIKey != "" {
		opts = append(opts, thehive.WithAPIKey(t.APIKey.Reveal()))
	} else {
		opts = append(opts, thehive.WithBasicAuth(t.Username, t.Password.Reveal()))
	}
	if t.Organisation != "" {
		opts = append(opts, thehive.WithOrganisation(t.Organisation))
	}
	tc, err := t.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("thehive: %w", err)
	}
	if tc != nil {
		opts = append(opts, thehive.WithTLSConfig(tc))
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = defaultStepTimeout
	}
	opts = append(opts, thehive.WithTimeout(timeout))
	if logger != nil {
		opts = append(opts, thehive.WithLogger(logger))
	}
	return thehive.NewClient(t.URL, opts...)
}

func (d *DispositionConfig) disposition() ews.Disposition {
	if d == nil {
		return ews.Disposition{}
	}
	return ews.Disposition{MarkRead: d.MarkRead, Category: d.Category, MoveTo: d.MoveTo}
}

// mailboxSettings merges a workflow's overrides into its source's settings.
func (m *MailWorkflowConfig) mailboxSettings(src MailboxSettings) (folders []string, processed, quarantine ews.Disposition) {
	folders = src.Folders
	if len(m.Folders) > 0 {
		folders = m.Folders
	}
	processed, quarantine = src.Processed.disposition(), src.Quarantine.disposition()
	if m.Processed != nil {
		processed = m.Processed.disposition()
	}
	if m.Quarantine != nil {
		quarantine = m.Quarantine.disposition()
	}
	if processed.IsZero() {
		processed = ews.Disposition{MarkRead: true}
	}
	return folders, processed, quarantine
}

// Mailbox opens (without I/O) the mailbox a mail workflow reads.
func (c *Config) Mailbox(w *WorkflowConfig, logger *slog.Logger) (ews.Mailbox, error) {
	if w.Mail == nil {
		return nil, fmt.Errorf("workflow %s reads no mailbox", w.Name)
	}
	s := c.Source(w.Source)
	if s == nil {
		return nil, fmt.Errorf("workflow %s: no source %q", w.Name, w.Source)
	}
	ms := s.mailboxSettings()
	if ms == nil {
		return nil, fmt.Errorf("workflow %s: source %s is not a mailbox", w.Name, s.Name)
	}
	folders, processed, quarantine := w.Mail.mailboxSettings(*ms)
	tc, err := s.tlsSettings().tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	switch {
	case s.IMAP != nil:
		x := s.IMAP
		mode := map[string]ews.TLSMode{"": ews.TLSImplicit, "implicit": ews.TLSImplicit, "starttls": ews.TLSStartTLS, "none": ews.TLSNone}[x.TLS]
		return ews.NewIMAP(ews.IMAPConfig{
			Addr: x.Address, TLS: mode, TLSConfig: tc,
			Username: x.Username, Password: x.Password.Reveal(),
			Folders: folders, Processed: processed, Quarantine: quarantine,
			MaxConns: x.MaxConns, Logger: logger,
		})
	case s.EWS != nil:
		x := s.EWS
		cfg := ews.EWSConfig{
			URL: x.URL, Username: x.Username, Password: x.Password.Reveal(),
			Mailbox: x.Mailbox, Impersonate: x.Impersonate, ServerVersion: x.ServerVersion,
			Folders: folders, Processed: processed, Quarantine: quarantine,
			TLSConfig: tc, Timeout: x.Timeout, UserAgent: "synapse", Logger: logger,
		}
		switch x.Auth {
		case "", "ntlm":
			cfg.Auth = ews.EWSAuthNTLM
		case "basic":
			cfg.Auth = ews.EWSAuthBasic
		case "oauth2":
			cfg.Auth = ews.EWSAuthBearer
			cc := clientcredentials.Config{
				ClientID: x.OAuth2.ClientID, ClientSecret: x.OAuth2.ClientSecret.Reveal(),
				TokenURL: x.OAuth2.TokenURL, Scopes: x.OAuth2.Scopes,
			}
			cfg.TokenSource = cc.TokenSource(context.Background())
		}
		return ews.NewEWS(cfg)
	default:
		x := s.Graph
		return ews.NewGraph(ews.GraphConfig{
			TenantID: x.TenantID, ClientID: x.ClientID, ClientSecret: x.ClientSecret.Reveal(),
			TokenURL: x.TokenURL, BaseURL: x.BaseURL, User: x.User,
			Folders: folders, Processed: processed, Quarantine: quarantine,
			TLSConfig: tc, Timeout: x.Timeout, UserAgent: "synapse", Logger: logger,
		})
	}
}

// level maps a name to its index in names, the value TheHive uses, with an
// offset (severities start at 1).
func level(v string, names []string, offset int) (int, bool) {
	for i, n := range names {
		if strings.EqualFold(v, n) {
			return i + offset, true
		}
	}
	return 0, false
}

func severityOf(v string) thehive.Severity {
	n, _ := level(v, severityNames, 1)
	return thehive.Severity(n)
}

func tlpOf(v string) *thehive.TLP {
	if n, ok := level(v, tlpNames, 0); ok {
		return thehive.Ptr(thehive.TLP(n))
	}
	return nil
}

func papOf(v string) *thehive.PAP {
	if n, ok := level(v, papNames, 0); ok {
		return thehive.Ptr(thehive.PAP(n))
	}
	return nil
}

// extractOptions builds the extraction options, checking the rules.
func (o ObservablesConfig) extractOptions() (observable.ExtractOptions, error) {
	x := observable.ExtractOptions{
		Recipients: o.Recipients, SkipReceived: o.SkipReceived, SkipInline: o.SkipInline,
	}
	for _, r := range o.TrustedRelays {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return x, fmt.Errorf("trusted_relays: want CIDR ranges such as 192.0.2.0/24")
		}
		x.TrustedRelays = append(x.TrustedRelays, p)
	}
	var err error
	if x.Allow, err = observable.ParseRules(o.Allow.Domains, o.Allow.Networks, o.Allow.Patterns); err != nil {
		return x, fmt.Errorf("allow: %v", err)
	}
	if x.Deny, err = observable.ParseRules(o.Deny.Domains, o.Deny.Networks, o.Deny.Patterns); err != nil {
		return x, fmt.Errorf("deny: %v", err)
	}
	return x, nil
}

// MailConfig returns the options of a mail workflow.
func (w *WorkflowConfig) MailConfig(logger *slog.Logger) (MailConfig, error) {
	m := w.Mail
	if m == nil {
		return MailConfig{}, fmt.Errorf("workflow %s is not a mail workflow", w.Name)
	}
	extract, err := m.Observables.extractOptions()
	if err != nil {
		return MailConfig{}, fmt.Errorf("workflow %s: observables: %w", w.Name, err)
	}
	return MailConfig{
		Name: w.Name,
		Case: CaseOptions{
			Template: m.Case.Template, TitlePrefix: m.Case.TitlePrefix, Tags: m.Case.Tags,
			Severity: severityOf(m.Case.Severity), TLP: tlpOf(m.Case.TLP), PAP: papOf(m.Case.PAP),
			CustomFields: m.Case.CustomFields, TaskTitle: m.Case.TaskTitle,
		},
		Owner: OwnerOptions{Categories: m.Owner.Categories, CategoryIsLogin: m.Owner.CategoryIsLogin, Fallback: m.Owner.Fallback},
		Alert: AlertOptions{
			Type: m.Alert.Type, Source: m.Alert.Source, Tags: m.Alert.Tags,
			Severity: severityOf(m.Alert.Severity), TLP: tlpOf(m.Alert.TLP), PAP: papOf(m.Alert.PAP),
			CaseTemplate: m.Alert.CaseTemplate, CustomFields: m.Alert.CustomFields,
		},
		Observables: ObservableOptions{
			Extract: extract, Tags: m.Observables.Tags, TLP: tlpOf(m.Observables.TLP),
			SkipFiles: m.Observables.SkipFiles, Logger: logger,
		},
		Concurrency: w.Concurrency,
		MaxAttempts: w.MaxAttempts,
		Logger:      logger,
	}, nil
}
