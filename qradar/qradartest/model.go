package qradartest

import (
	"slices"
	"strings"
	"time"
)

// Offense is an offense as seeded into the fake. Zero values get QRadar's
// defaults when the offense is added: status OPEN, start time now, the
// other times from the start time, counts from the lists they count.
type Offense struct {
	ID                         int64
	Description                string
	AssignedTo                 string // "" is null
	Categories                 []string
	CategoryCount              int
	PolicyCategoryCount        int
	SecurityCategoryCount      int
	CloseTime                  time.Time // zero is null
	ClosingUser                string    // "" is null
	ClosingReasonID            int64     // 0 is null
	Credibility                int
	Relevance                  int
	Severity                   int
	Magnitude                  int
	DestinationNetworks        []string
	SourceNetwork              string
	DeviceCount                int
	EventCount                 int
	FlowCount                  int
	Inactive                   bool
	LastUpdatedTime            time.Time
	LocalDestinationCount      int
	OffenseSource              string
	OffenseType                int64
	Protected                  bool
	FollowUp                   bool
	RemoteDestinationCount     int
	SourceCount                int
	StartTime                  time.Time
	Status                     string // OPEN, HIDDEN or CLOSED
	UsernameCount              int
	SourceAddressIDs           []int64
	LocalDestinationAddressIDs []int64
	DomainID                   int64
	FirstPersistedTime         time.Time
	LastPersistedTime          time.Time
	Rules                      []OffenseRule
	LogSources                 []LogSource
}

// OffenseRule is a rule that contributed to an offense.
type OffenseRule struct {
	ID   int64
	Type string // CRE_RULE, BUILDING_BLOCK_RULE or ADE_RULE; "" is CRE_RULE
}

// LogSource is a log source that contributed to an offense.
type LogSource struct {
	ID       int64
	Name     string
	TypeID   int64
	TypeName string
}

// SourceAddress is an offense source address.
type SourceAddress struct {
	ID                         int64
	SourceIP                   string
	Magnitude                  int
	Network                    string
	OffenseIDs                 []int64 // offenses that name the address are added
	LocalDestinationAddressIDs []int64
	EventFlowCount             int64
	FirstEventFlowSeen         time.Time
	LastEventFlowSeen          time.Time
	DomainID                   int64
}

// LocalDestinationAddress is an offense local destination address.
type LocalDestinationAddress struct {
	ID                 int64
	LocalDestinationIP string
	Magnitude          int
	Network            string
	OffenseIDs         []int64 // offenses that name the address are added
	SourceAddressIDs   []int64
	EventFlowCount     int64
	FirstEventFlowSeen time.Time
	LastEventFlowSeen  time.Time
	DomainID           int64
}

// OffenseType is an offense type (what offense_source holds).
type OffenseType struct {
	ID           int64
	Name         string
	PropertyName string
	DatabaseType string // EVENTS, FLOWS or COMMON
	Custom       bool
}

// Rule is an analytics rule.
type Rule struct {
	ID                   int64
	Name                 string
	Type                 string // EVENT, FLOW, COMMON, OFFENSE...
	Enabled              bool
	Owner                string
	Origin               string // SYSTEM, OVERRIDE or USER
	BaseCapacity         int64
	BaseHostID           int64
	AverageCapacity      int64
	CapacityTimestamp    time.Time
	Identifier           string
	LinkedRuleIdentifier string // "" is null
	CreationDate         time.Time
	ModificationDate     time.Time
}

// ClosingReason is an offense closing reason.
type ClosingReason struct {
	ID       int64
	Text     string
	Deleted  bool
	Reserved bool
}

// Domain is a domain of a multi-tenant QRadar.
type Domain struct {
	ID          int64
	Name        string
	Description string
	TenantID    int64
	Deleted     bool
}

// Note is an offense note, as read back with [Server.Notes].
type Note struct {
	ID         int64
	OffenseID  int64
	Text       string
	Username   string
	CreateTime time.Time
}

func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func ids(v []int64) []any {
	out := make([]any, len(v))
	for i, id := range v {
		out[i] = id
	}
	return out
}

func strs(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

// offenseFields are the keys of a rendered offense.
var offenseFields = keySet("id", "description", "assigned_to", "categories", "category_count",
	"policy_category_count", "security_category_count", "close_time", "closing_user",
	"closing_reason_id", "credibility", "relevance", "severity", "magnitude",
	"destination_networks", "source_network", "device_count", "event_count", "flow_count",
	"inactive", "last_updated_time", "local_destination_count", "offense_source",
	"offense_type", "protected", "follow_up", "remote_destination_count", "source_count",
	"start_time", "status", "username_count", "source_address_ids",
	"local_destination_address_ids", "domain_id", "first_persisted_time",
	"last_persisted_time", "rules", "log_sources")

// offenseFilterable and offenseSortable follow the offense list page of
// IBM's 14.0 reference.
var offenseFilterable = keySet("id", "assigned_to", "category_count", "policy_category_count",
	"security_category_count", "close_time", "closing_user", "closing_reason_id", "credibility",
	"relevance", "severity", "magnitude", "destination_networks", "device_count", "event_count",
	"flow_count", "inactive", "last_updated_time", "local_destination_count", "offense_type",
	"protected", "follow_up", "remote_destination_count", "source_count", "start_time", "status",
	"username_count", "source_address_ids", "local_destination_address_ids", "domain_id",
	"first_persisted_time", "last_persisted_time", "rules", "log_sources")

var offenseSortable = keySet("id", "assigned_to", "category_count", "policy_category_count",
	"security_category_count", "close_time", "closing_user", "closing_reason_id", "credibility",
	"relevance", "severity", "magnitude", "device_count", "event_count", "flow_count", "inactive",
	"last_updated_time", "local_destination_count", "offense_type", "protected", "follow_up",
	"remote_destination_count", "source_count", "start_time", "status", "username_count",
	"domain_id", "first_persisted_time", "last_persisted_time")

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (o *Offense) render() map[string]any {
	rules := make([]any, len(o.Rules))
	for i, r := range o.Rules {
		typ := r.Type
		if typ == "" {
			typ = "CRE_RULE"
		}
		rules[i] = map[string]any{"id": r.ID, "type": typ}
	}
	logSources := make([]any, len(o.LogSources))
	for i, l := range o.LogSources {
		logSources[i] = map[string]any{"id": l.ID, "name": l.Name, "type_id": l.TypeID, "type_name": l.TypeName}
	}
	return map[string]any{
		"id":                            o.ID,
		"description":                   o.Description,
		"assigned_to":                   nullString(o.AssignedTo),
		"categories":                    strs(o.Categories),
		"category_count":                int64(o.CategoryCount),
		"policy_category_count":         int64(o.PolicyCategoryCount),
		"security_category_count":       int64(o.SecurityCategoryCount),
		"close_time":                    ms(o.CloseTime),
		"closing_user":                  nullString(o.ClosingUser),
		"closing_reason_id":             nullID(o.ClosingReasonID),
		"credibility":                   int64(o.Credibility),
		"relevance":                     int64(o.Relevance),
		"severity":                      int64(o.Severity),
		"magnitude":                     int64(o.Magnitude),
		"destination_networks":          strs(o.DestinationNetworks),
		"source_network":                o.SourceNetwork,
		"device_count":                  int64(o.DeviceCount),
		"event_count":                   int64(o.EventCount),
		"flow_count":                    int64(o.FlowCount),
		"inactive":                      o.Inactive,
		"last_updated_time":             ms(o.LastUpdatedTime),
		"local_destination_count":       int64(o.LocalDestinationCount),
		"offense_source":                o.OffenseSource,
		"offense_type":                  o.OffenseType,
		"protected":                     o.Protected,
		"follow_up":                     o.FollowUp,
		"remote_destination_count":      int64(o.RemoteDestinationCount),
		"source_count":                  int64(o.SourceCount),
		"start_time":                    ms(o.StartTime),
		"status":                        o.Status,
		"username_count":                int64(o.UsernameCount),
		"source_address_ids":            ids(o.SourceAddressIDs),
		"local_destination_address_ids": ids(o.LocalDestinationAddressIDs),
		"domain_id":                     o.DomainID,
		"first_persisted_time":          ms(o.FirstPersistedTime),
		"last_persisted_time":           ms(o.LastPersistedTime),
		"rules":                         rules,
		"log_sources":                   logSources,
	}
}

func (o *Offense) clone() *Offense {
	c := *o
	c.Categories = slices.Clone(o.Categories)
	c.DestinationNetworks = slices.Clone(o.DestinationNetworks)
	c.SourceAddressIDs = slices.Clone(o.SourceAddressIDs)
	c.LocalDestinationAddressIDs = slices.Clone(o.LocalDestinationAddressIDs)
	c.Rules = slices.Clone(o.Rules)
	c.LogSources = slices.Clone(o.LogSources)
	return &c
}

// withDefaults fills the zero fields of a seeded offense.
func (o *Offense) withDefaults(now time.Time) {
	if o.Status == "" {
		o.Status = "OPEN"
	}
	o.Status = strings.ToUpper(o.Status)
	if o.StartTime.IsZero() {
		o.StartTime = now
	}
	if o.LastUpdatedTime.IsZero() {
		o.LastUpdatedTime = o.StartTime
	}
	if o.FirstPersistedTime.IsZero() {
		o.FirstPersistedTime = o.StartTime
	}
	if o.LastPersistedTime.IsZero() {
		o.LastPersistedTime = o.LastUpdatedTime
	}
	if o.SourceCount == 0 {
		o.SourceCount = len(o.SourceAddressIDs)
	}
	if o.LocalDestinationCount == 0 {
		o.LocalDestinationCount = len(o.LocalDestinationAddressIDs)
	}
	if o.CategoryCount == 0 {
		o.CategoryCount = len(o.Categories)
	}
	if o.DeviceCount == 0 {
		o.DeviceCount = len(o.LogSources)
	}
	if o.EventCount == 0 && o.FlowCount == 0 {
		o.EventCount = 1
	}
	if o.SourceNetwork == "" {
		o.SourceNetwork = "other"
	}
	if o.Categories == nil {
		o.Categories = []string{}
	}
	if o.DestinationNetworks == nil {
		o.DestinationNetworks = []string{}
	}
}

var sourceAddressFields = keySet("id", "source_ip", "magnitude", "network", "offense_ids",
	"local_destination_address_ids", "event_flow_count", "first_event_flow_seen",
	"last_event_flow_seen", "domain_id")

var localDestinationFields = keySet("id", "local_destination_ip", "magnitude", "network", "offense_ids",
	"source_address_ids", "event_flow_count", "first_event_flow_seen",
	"last_event_flow_seen", "domain_id")

func (a *SourceAddress) render(offenses []int64) map[string]any {
	return map[string]any{
		"id":                            a.ID,
		"source_ip":                     a.SourceIP,
		"magnitude":                     int64(a.Magnitude),
		"network":                       a.Network,
		"offense_ids":                   ids(offenses),
		"local_destination_address_ids": ids(a.LocalDestinationAddressIDs),
		"event_flow_count":              a.EventFlowCount,
		"first_event_flow_seen":         ms(a.FirstEventFlowSeen),
		"last_event_flow_seen":          ms(a.LastEventFlowSeen),
		"domain_id":                     a.DomainID,
	}
}

func (a *LocalDestinationAddress) render(offenses []int64) map[string]any {
	return map[string]any{
		"id":                    a.ID,
		"local_destination_ip":  a.LocalDestinationIP,
		"magnitude":             int64(a.Magnitude),
		"network":               a.Network,
		"offense_ids":           ids(offenses),
		"source_address_ids":    ids(a.SourceAddressIDs),
		"event_flow_count":      a.EventFlowCount,
		"first_event_flow_seen": ms(a.FirstEventFlowSeen),
		"last_event_flow_seen":  ms(a.LastEventFlowSeen),
		"domain_id":             a.DomainID,
	}
}

var offenseTypeFields = keySet("id", "name", "property_name", "database_type", "custom")

func (t *OffenseType) render() map[string]any {
	return map[string]any{
		"id":            t.ID,
		"name":          t.Name,
		"property_name": t.PropertyName,
		"database_type": t.DatabaseType,
		"custom":        t.Custom,
	}
}

var ruleFields = keySet("id", "name", "type", "enabled", "owner", "origin", "base_capacity",
	"base_host_id", "average_capacity", "capacity_timestamp", "identifier",
	"linked_rule_identifier", "creation_date", "modification_date")

func (r *Rule) render() map[string]any {
	capTS := int64(0)
	if !r.CapacityTimestamp.IsZero() {
		capTS = r.CapacityTimestamp.UnixMilli()
	}
	return map[string]any{
		"id":                     r.ID,
		"name":                   r.Name,
		"type":                   r.Type,
		"enabled":                r.Enabled,
		"owner":                  r.Owner,
		"origin":                 r.Origin,
		"base_capacity":          r.BaseCapacity,
		"base_host_id":           r.BaseHostID,
		"average_capacity":       r.AverageCapacity,
		"capacity_timestamp":     capTS,
		"identifier":             r.Identifier,
		"linked_rule_identifier": nullString(r.LinkedRuleIdentifier),
		"creation_date":          ms(r.CreationDate),
		"modification_date":      ms(r.ModificationDate),
	}
}

var closingReasonFields = keySet("id", "text", "is_deleted", "is_reserved")

func (c *ClosingReason) render() map[string]any {
	return map[string]any{"id": c.ID, "text": c.Text, "is_deleted": c.Deleted, "is_reserved": c.Reserved}
}

var noteFields = keySet("id", "create_time", "username", "note_text")

func (n *Note) render() map[string]any {
	return map[string]any{"id": n.ID, "create_time": ms(n.CreateTime), "username": n.Username, "note_text": n.Text}
}

var domainFields = keySet("id", "name", "description", "tenant_id", "deleted", "event_collector_ids",
	"log_source_ids", "log_source_group_ids", "flow_source_ids", "flow_collector_ids",
	"asset_scanner_ids", "qvm_scanner_ids", "flow_vlan_ids", "custom_properties")

func (d *Domain) render() map[string]any {
	return map[string]any{
		"id":                   d.ID,
		"name":                 d.Name,
		"description":          d.Description,
		"tenant_id":            d.TenantID,
		"deleted":              d.Deleted,
		"event_collector_ids":  []any{},
		"log_source_ids":       []any{},
		"log_source_group_ids": []any{},
		"flow_source_ids":      []any{},
		"flow_collector_ids":   []any{},
		"asset_scanner_ids":    []any{},
		"qvm_scanner_ids":      []any{},
		"flow_vlan_ids":        []any{},
		"custom_properties":    []any{},
	}
}

// stockOffenseTypes are the offense types of a fresh QRadar. Ids 0, 3 and 7
// are confirmed by recorded answers; the others follow QRadar's defaults.
var stockOffenseTypes = []OffenseType{
	{0, "Source IP", "sourceIP", "COMMON", false},
	{1, "Destination IP", "destinationIP", "COMMON", false},
	{2, "Event Name", "qid", "EVENTS", false},
	{3, "Username", "userName", "EVENTS", false},
	{4, "Source MAC Address", "sourceMAC", "EVENTS", false},
	{5, "Destination MAC Address", "destinationMAC", "EVENTS", false},
	{6, "Log Source", "deviceId", "EVENTS", false},
	{7, "Hostname", "hostName", "EVENTS", false},
	{8, "Source Port", "sourcePort", "COMMON", false},
	{9, "Destination Port", "destinationPort", "COMMON", false},
	{10, "Source IPv6", "sourceIPv6", "COMMON", false},
	{11, "Destination IPv6", "destinationIPv6", "COMMON", false},
	{12, "Source ASN", "sourceASN", "FLOWS", false},
	{13, "Destination ASN", "destinationASN", "FLOWS", false},
	{14, "Rule", "creEventList", "COMMON", false},
	{15, "App Id", "appId", "FLOWS", false},
	{18, "Scheduled Search", "scheduledSearch", "EVENTS", false},
}

// stockClosingReasons are the closing reasons of a fresh QRadar.
var stockClosingReasons = []ClosingReason{
	{ID: 1, Text: "Non-Issue"},
	{ID: 2, Text: "False-Positive, Tuned"},
	{ID: 3, Text: "Policy Violation"},
}
