package workflow

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// Bounds on what an alert shows, so that an offense with thousands of
// addresses or huge payloads makes a readable alert (observables carry
// every address).
const (
	maxListedAddresses = 50
	maxCellRunes       = 300
	maxPayloadRunes    = 2000
	maxTitleRunes      = 512
	maxObservableLen   = 4096
)

// buildOffenseAlert makes the alert of an offense.
func buildOffenseAlert(cfg *QRadarConfig, s *offenseAlert) *thehive.AlertCreate {
	o := &s.offense.Offense
	return &thehive.AlertCreate{
		Type:         cfg.Type,
		Source:       cfg.Source,
		SourceRef:    offenseRef(o.ID),
		Title:        offenseTitle(cfg, o),
		Description:  offenseDescription(cfg, s),
		ExternalLink: cfg.offenseURL(o.ID),
		Severity:     cfg.Severity.Map(o),
		TLP:          cfg.TLP,
		PAP:          cfg.PAP,
		Date:         o.StartTime,
		Tags:         offenseTags(cfg, &s.offense),
		CaseTemplate: cfg.CaseTemplate,
		Observables:  offenseObservables(cfg, s),
	}
}

// offenseURL returns the console's page of the offense, or "".
func (c *QRadarConfig) offenseURL(id qradar.OffenseID) string {
	if c.ConsoleURL == "" {
		return ""
	}
	return c.ConsoleURL + "/console/qradar/jsp/QRadar.jsp?appName=Sem&pageId=OffenseSummary&summaryId=" + offenseRef(id)
}

// offenseTitle is the offense's description on one line, as the original's
// title was.
func offenseTitle(cfg *QRadarConfig, o *qradar.Offense) string {
	title := mdText(o.Description)
	if title == "" {
		title = "QRadar offense " + offenseRef(o.ID)
	}
	if prefix := mdText(cfg.TitlePrefix); prefix != "" {
		title = prefix + " " + title
	}
	return cutRunes(title, maxTitleRunes, "…")
}

// offenseTags are the alert's tags: the original's three, the offense's
// categories, its domain, the instance and the configured ones. They are
// computed apart from the observables' tags: the original replaced the
// alert's tags with a user name observable's ("type:username").
func offenseTags(cfg *QRadarConfig, e *qradar.EnrichedOffense) []string {
	tags := []string{"QRadar", "Offense", "Synapse"}
	tags = append(tags, e.Offense.Categories...)
	if e.DomainName != "" {
		tags = append(tags, "domain:"+e.DomainName)
	}
	if cfg.Instance != "" {
		tags = append(tags, "qradar:"+cfg.Instance)
	}
	tags = append(tags, cfg.Tags...)
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// offenseDescription renders the alert's description in Markdown: a summary
// table, the rules, the addresses, the first events and a link back to the
// console. It holds everything the alert shows of the offense, so that a
// change of the offense shows as a change of the description.
func offenseDescription(cfg *QRadarConfig, s *offenseAlert) string {
	e := &s.offense
	o := &e.Offense
	var b strings.Builder
	b.WriteString("## Summary\n\n|  |  |\n|---|---|\n")
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "| **%s** | %s |\n", name, mdCell(value))
		}
	}
	typeName := e.TypeName
	if typeName == "" {
		typeName = fmt.Sprintf("unknown offense type %d", o.OffenseType)
	}
	row("Offense ID", offenseRef(o.ID))
	row("Description", oneLine(o.Description))
	row("Offense Type", typeName)
	row("Offense Source", o.OffenseSource)
	row("Magnitude", strconv.Itoa(o.Magnitude))
	row("Severity", strconv.Itoa(o.Severity))
	row("Credibility", strconv.Itoa(o.Credibility))
	row("Relevance", strconv.Itoa(o.Relevance))
	row("Status", string(o.Status))
	row("Events", plural(o.EventCount, "event")+", "+plural(o.FlowCount, "flow"))
	row("Start Time", formatTime(o.StartTime))
	row("Last Event", formatTime(o.LastUpdatedTime))
	row("Categories", strings.Join(o.Categories, ", "))
	row("Source Network", o.SourceNetwork)
	row("Destination Networks", strings.Join(o.DestinationNetworks, ", "))
	row("Domain", e.DomainName)
	var logSources []string
	for _, ls := range o.LogSources {
		logSources = append(logSources, ls.Name)
	}
	row("Log Sources", strings.Join(logSources, ", "))
	row("QRadar", cfg.Instance)

	if len(e.Rules) > 0 {
		b.WriteString("\n## Rules\n\n")
		for _, r := range e.Rules {
			if r.Name == "" {
				fmt.Fprintf(&b, "- rule %d (%s, name not available)\n", r.ID, r.Type)
			} else {
				fmt.Fprintf(&b, "- %s (%s %d)\n", mdText(r.Name), r.Type, r.ID)
			}
		}
	}

	if len(e.SourceIPs)+len(e.LocalDestinationIPs)+len(s.remote) > 0 || s.remoteErr != nil {
		b.WriteString("\n## Addresses\n\n")
		addresses(&b, "Source", e.SourceIPs)
		addresses(&b, "Local destination", e.LocalDestinationIPs)
		var remote []string
		for _, r := range s.remote {
			remote = append(remote, fmt.Sprintf("%s (%d events)", r.IP, r.EventCount))
		}
		addresses(&b, "Remote destination", remote)
		if s.remoteErr != nil {
			b.WriteString("- **Remote destination:** _could not be read from QRadar_\n")
		}
	}

	if cfg.EventLimit > 0 {
		b.WriteString("\n## First events\n\n")
		switch {
		case s.eventsErr != nil:
			b.WriteString("_The offense's events could not be read from QRadar._\n")
		case len(s.events) == 0:
			b.WriteString("_QRadar returned no events._\n")
		default:
			eventsTable(&b, s.events)
		}
	}

	if u := cfg.offenseURL(o.ID); u != "" {
		fmt.Fprintf(&b, "\n[Open offense %d in QRadar](%s)\n", o.ID, u)
	}
	return b.String()
}

func addresses(b *strings.Builder, label string, list []string) {
	if len(list) == 0 {
		return
	}
	shown := list
	if len(shown) > maxListedAddresses {
		shown = shown[:maxListedAddresses]
	}
	fmt.Fprintf(b, "- **%s:** %s", label, mdText(strings.Join(shown, ", ")))
	if more := len(list) - len(shown); more > 0 {
		fmt.Fprintf(b, " and %d more", more)
	}
	b.WriteString("\n")
}

// Event columns in the order they are shown, with their headings; other
// columns follow in alphabetical order under their own names.
var (
	eventColumns = []string{"starttime", "devicetime", "qidname_qid", "logsourcename_logsourceid",
		"categoryname_category", "sourceip", "sourceport", "destinationip", "destinationport", "username"}
	eventHeadings = map[string]string{
		"starttime": "Time", "devicetime": "Device time", "qidname_qid": "Event",
		"logsourcename_logsourceid": "Log source", "categoryname_category": "Category",
		"sourceip": "Source IP", "sourceport": "Source port", "destinationip": "Destination IP",
		"destinationport": "Destination port", "username": "User",
	}
	timeColumns    = map[string]bool{"starttime": true, "devicetime": true, "endtime": true}
	payloadColumns = map[string]bool{"utf8_payload": true, "payload": true}
)

// eventsTable renders event rows as a table, and their payloads each in a
// code block.
func eventsTable(b *strings.Builder, rows []qradar.Row) {
	present := map[string]bool{}
	for _, r := range rows {
		for col := range r {
			present[col] = true
		}
	}
	var cols, extra []string
	for _, c := range eventColumns {
		if present[c] {
			cols = append(cols, c)
		}
	}
	for c := range present {
		if !slices.Contains(eventColumns, c) && !payloadColumns[c] {
			extra = append(extra, c)
		}
	}
	slices.Sort(extra)
	cols = append(cols, extra...)
	if len(cols) > 0 {
		b.WriteString("|")
		for _, c := range cols {
			h := eventHeadings[c]
			if h == "" {
				h = c
			}
			b.WriteString(" " + mdCell(h) + " |")
		}
		b.WriteString("\n|" + strings.Repeat("---|", len(cols)) + "\n")
		for _, r := range rows {
			b.WriteString("|")
			for _, c := range cols {
				v := r.String(c)
				if timeColumns[c] {
					if t := r.Time(c); !t.IsZero() {
						v = formatTime(t)
					}
				}
				b.WriteString(" " + mdCell(v) + " |")
			}
			b.WriteString("\n")
		}
	}
	for i, r := range rows {
		for _, c := range []string{"utf8_payload", "payload"} {
			p := r.String(c)
			if strings.TrimSpace(p) == "" {
				continue
			}
			p = cutRunes(strings.ToValidUTF8(p, "\uFFFD"), maxPayloadRunes, "\n[…]")
			fence := "```"
			for strings.Contains(p, fence) {
				fence += "`"
			}
			fmt.Fprintf(b, "\nPayload of event %d:\n\n%s\n%s\n%s\n", i+1, fence, strings.TrimRight(p, "\r\n"), fence)
			break
		}
	}
}

// offenseObservable is one observable of an offense, with every role it
// plays ("source IP", "offense source"...).
type offenseObservable struct {
	dataType, data string
	roles, tags    []string
}

// offenseObservables returns the observables of an offense: its source
// according to its type (an address, a user name, a host name), its source
// and local destination addresses (tagged src and dst), its remote
// destinations (dst, remote) and the user names of its events, grouped into
// one entry per type, description and tags.
func offenseObservables(cfg *QRadarConfig, s *offenseAlert) []thehive.ObservableCreate {
	e := &s.offense
	var list []*offenseObservable
	index := map[string]*offenseObservable{}
	add := func(dataType, data, role string, tags ...string) {
		data = strings.TrimSpace(data)
		if data == "" || len(data) > maxObservableLen || !utf8.ValidString(data) {
			return
		}
		k := observableKey(dataType, data)
		ob := index[k]
		if ob == nil {
			ob = &offenseObservable{dataType: dataType, data: data}
			index[k] = ob
			list = append(list, ob)
		}
		if !slices.Contains(ob.roles, role) {
			ob.roles = append(ob.roles, role)
		}
		ob.tags = append(ob.tags, tags...)
	}
	addIP := func(v, role string, tags ...string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		add(thehive.DataIP, a.String(), role, tags...)
		return true
	}
	addUser := func(v, role string) {
		if placeholderValue(v) {
			return
		}
		if cfg.UsernameDataType == thehive.DataOther {
			add(thehive.DataOther, v, role, "type:username")
		} else {
			add(cfg.UsernameDataType, v, role)
		}
	}

	src := e.Offense.OffenseSource
	switch offenseTypeName(e) {
	case "Source IP", "Source IPv6":
		addIP(src, "offense source", "src")
	case "Destination IP", "Destination IPv6":
		addIP(src, "offense source", "dst")
	case "Username":
		addUser(src, "offense source")
	case "Hostname":
		if !placeholderValue(src) {
			add(thehive.DataHostname, src, "offense source")
		}
	case "Source MAC Address", "Destination MAC Address":
		add(thehive.DataOther, src, "offense source", "type:mac")
	default:
		addIP(src, "offense source")
	}
	for _, ip := range e.SourceIPs {
		addIP(ip, "source IP", "src")
	}
	for _, ip := range e.LocalDestinationIPs {
		addIP(ip, "local destination IP", "dst")
	}
	for _, r := range s.remote {
		addIP(r.IP, "remote destination IP", "dst", "remote")
	}
	for _, r := range s.events {
		addUser(r.String("username"), "user in the offense's events")
	}

	var out []thehive.ObservableCreate
	groups := map[string]int{}
	for _, ob := range list {
		tags := append(slices.Clone(ob.tags), cfg.ObservableTags...)
		slices.Sort(tags)
		tags = slices.Compact(tags)
		msg := fmt.Sprintf("QRadar offense %d: %s", e.Offense.ID, strings.Join(ob.roles, ", "))
		k := ob.dataType + "\x00" + msg + "\x00" + strings.Join(tags, "\x00")
		i, ok := groups[k]
		if !ok {
			i = len(out)
			groups[k] = i
			out = append(out, thehive.ObservableCreate{DataType: ob.dataType, Message: msg, Tags: tags})
		}
		out[i].Data = append(out[i].Data, ob.data)
	}
	return out
}

// offenseTypeName is the offense type's name, or for a console that does
// not list the type (QRadar Community Edition), the name of the stock types
// whose ids are known.
func offenseTypeName(e *qradar.EnrichedOffense) string {
	if e.TypeName != "" {
		return e.TypeName
	}
	switch e.Offense.OffenseType {
	case 0:
		return "Source IP"
	case 3:
		return "Username"
	case 7:
		return "Hostname"
	}
	return ""
}

// placeholderValue reports whether v stands for no value, as QRadar writes
// it in user and host names.
func placeholderValue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "n/a", "na", "-", "null", "none", "unknown":
		return true
	}
	return false
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// oneLine joins the lines of s and collapses runs of white space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// mdCell makes s safe in a Markdown table cell: one line, pipes escaped,
// at most maxCellRunes runes.
func mdCell(s string) string {
	return strings.ReplaceAll(cutRunes(mdText(s), maxCellRunes, "…"), "|", `\|`)
}

// mdText makes s one line of text without control characters.
func mdText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return oneLine(s)
}

// cutRunes cuts s to n runes, ending it with more when it was cut.
func cutRunes(s string, n int, more string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + more
		}
		i++
	}
	return s
}
