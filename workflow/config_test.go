package workflow_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/workflow"
)

// sampleEnv holds the secrets the sample configuration reads.
var sampleEnv = map[string]string{
	"SYNAPSE_API_TOKEN":     "api-token-4f1d9c",
	"SYNAPSE_WEBHOOK_TOKEN": "webhook-token-77ab01",
	"THEHIVE_API_KEY":       "thehive-key-9e8d7c",
	"IMAP_PASSWORD":         "imap-pass-a1b2c3",
	"EWS_PASSWORD":          "ews-pass-d4e5f6",
	"GRAPH_CLIENT_SECRET":   "graph-secret-0a9b8c",
	"QRADAR_PARIS_TOKEN":    "qradar-token-123abc",
	"QRADAR_LYON_TOKEN":     "qradar-token-456def",
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func readSample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "synapse", "synapse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSampleConfig(t *testing.T) {
	t.Parallel()
	cfg, err := workflow.ParseConfig("synapse.yaml", readSample(t), env(sampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TheHive.APIKey.Reveal() != sampleEnv["THEHIVE_API_KEY"] || cfg.TheHive.Organisation != "SOC" || cfg.TheHive.Timeout != 10*time.Minute {
		t.Errorf("thehive section: %+v", cfg.TheHive)
	}
	var sources, workflows []string
	for _, s := range cfg.Sources {
		sources = append(sources, s.Name+":"+s.Type)
	}
	for _, w := range cfg.Workflows {
		workflows = append(workflows, w.Name+":"+w.Type+"<"+w.Source)
	}
	if strings.Join(sources, " ") != "soc-imap:imap exchange:ews o365:graph qradar-paris:qradar qradar-lyon:qradar" {
		t.Errorf("sources in file order: %v", sources)
	}
	if strings.Join(workflows, " ") != "phishing-cases:ews2case<soc-imap exchange-alerts:ews2alert<exchange o365-cases:ews2case<o365 "+
		"offenses-paris:qradar2alert<qradar-paris offenses-lyon:qradar2alert<qradar-lyon close-offenses:close_offenses<" {
		t.Errorf("workflows in file order: %v", workflows)
	}
	imap := cfg.Source("soc-imap").IMAP
	if imap.Password.Reveal() != sampleEnv["IMAP_PASSWORD"] || imap.Quarantine.MoveTo != "Inbox/Quarantine" {
		t.Errorf("imap source: %+v", imap)
	}
	phishing := cfg.Workflow("phishing-cases")
	mc, err := phishing.MailConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if mc.Case.Template != "Phishing" || mc.Case.Severity != 2 || *mc.Case.TLP != 2 ||
		mc.Owner.Categories["Alice"] != "alice@example.org" || mc.Owner.Fallback != "soc-lead@example.org" ||
		!mc.Observables.Extract.SkipInline || len(mc.Observables.Extract.Allow.Domains) != 1 || mc.Concurrency != 4 {
		t.Errorf("mail config: %+v", mc)
	}
	// The whole sample wires, without I/O.
	app, err := workflow.NewApp(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.Handler(); err != nil {
		t.Fatal(err)
	}
	if got := app.Workflows(workflow.WorkflowQRadar2Alert); len(got) != 2 {
		t.Errorf("qradar2alert workflows %v", got)
	}
	// The config prints without its secrets.
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%#v", cfg.TheHive), fmt.Sprintf("%+v", *imap)} {
		for name, secret := range sampleEnv {
			if strings.Contains(s, secret) {
				t.Errorf("%s printed: %s", name, s)
			}
		}
	}
}

func TestConfigErrorsNameFileLineAndKey(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-never-in-errors"
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error
	}{
		{"unknown setting", `
thehive:
  url: https://h
  api_key: k
  organization: SOC
`, []string{"c.yaml:5:3: thehive.organization: unknown setting"}},
		{"wrong type", `
thehive: {url: https://h, api_key: k}
sources:
  m:
    type: imap
    address: h:993
    username: u
    password: ` + secret + `
    folders: [Inbox]
    max_conns: ` + secret + `
`, []string{"c.yaml:10:16: sources.m.max_conns: want a whole number"}},
		{"missing variable", `
thehive: {url: https://h, api_key: "${NOT_SET}"}
`, []string{"c.yaml:2:36: thehive.api_key: environment variable NOT_SET is not set"}},
		{"unknown source", `
thehive: {url: https://h, api_key: k}
workflows:
  w:
    type: ews2case
    source: nope
`, []string{"c.yaml:6:13: workflows.w.source: no source is named so"}},
		{"source of the wrong type", `
thehive: {url: https://h, api_key: k}
sources:
  q: {type: qradar, url: https://q, token: t}
workflows:
  w: {type: ews2case, source: q}
`, []string{"workflows.w.source: names a qradar source; this workflow reads imap or ews or graph sources"}},
		{"bad schedule and level", `
thehive: {url: https://h, api_key: k}
sources:
  m: {type: imap, address: h, username: u, password: p, folders: [x]}
workflows:
  w:
    type: ews2case
    source: m
    schedule: every minute
    case: {severity: urgent}
`, []string{"c.yaml:9:15: workflows.w.schedule: want a duration", "c.yaml:10:22: workflows.w.case.severity: want one of low"}},
		{"missing settings", `
sources:
  m: {type: imap}
  x: {type: pop3}
`, []string{"thehive.url is required", "sources.m: address is required", "sources.x.type: unknown source type"}},
		{"no quarantine", `
thehive: {url: https://h, api_key: k}
sources:
  m: {type: imap, address: h, username: u, password: p, folders: [x]}
workflows:
  w: {type: ews2case, source: m}
`, []string{"c.yaml:6:6: workflows.w: quarantine is required here or on source m"}},
		{"not yaml", "thehive: [\n  url: '" + secret + "\n", []string{"c.yaml: not valid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := workflow.ParseConfig("c.yaml", []byte(tt.yaml), env(map[string]string{}))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error holds a value from the file: %q", err)
			}
			var ce *workflow.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ConfigError", err)
			}
		})
	}
}

func TestConfigEnvDefaultsAndSingleValues(t *testing.T) {
	t.Parallel()
	cfg, err := workflow.ParseConfig("c.yaml", []byte(`
thehive: {url: "${TH_URL:-http://127.0.0.1:9000}", api_key: "${KEY}"}
sources:
  m: {type: imap, address: h, username: u, password: p, folders: Inbox, quarantine: {category: q}}
workflows:
  w: {type: ews2case, source: m, case: {custom_fields: {score: 7, ratio: 0.5, vip: true, team: red}}}
`), env(map[string]string{"KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TheHive.URL != "http://127.0.0.1:9000" || cfg.TheHive.APIKey.Reveal() != "k" {
		t.Errorf("thehive %+v", cfg.TheHive)
	}
	if got := cfg.Source("m").IMAP.Folders; len(got) != 1 || got[0] != "Inbox" {
		t.Errorf("folders %v", got)
	}
	want := map[string]any{"score": int64(7), "ratio": 0.5, "vip": true, "team": "red"}
	if diff := cmp.Diff(want, cfg.Workflow("w").Mail.Case.CustomFields); diff != "" {
		t.Errorf("custom fields (-want +got):\n%s", diff)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(readSample(f))
	f.Add([]byte("thehive: {url: https://h, api_key: k}\nworkflows: {w: {type: ews2case, source: m}}\n"))
	f.Add([]byte("sources: {a: {type: imap, folders: [[x]]}}\n"))
	f.Add([]byte("thehive: &a {url: *a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const secret = "fuzz-secret-value"
		cfg, err := workflow.ParseConfig("f.yaml", data, env(map[string]string{"S": secret}))
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("an error holds a secret: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without an error")
		}
	})
}
