package qradar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Identifiers, distinct types so that one cannot be passed for another.
type (
	// OffenseID identifies an offense.
	OffenseID int64
	// NoteID identifies an offense note.
	NoteID int64
	// ClosingReasonID identifies an offense closing reason.
	ClosingReasonID int64
	// OffenseTypeID identifies an offense type (0 is "Source IP").
	OffenseTypeID int64
	// AddressID identifies a source or local destination address.
	AddressID int64
	// RuleID identifies an analytics rule.
	RuleID int64
	// DomainID identifies a domain (0 is the default domain).
	DomainID int64
	// SearchID identifies an Ariel search (a UUID).
	SearchID string
)

// OffenseStatus is an offense's status.
type OffenseStatus string

// Offense statuses.
const (
	StatusOpen   OffenseStatus = "OPEN"
	StatusHidden OffenseStatus = "HIDDEN"
	StatusClosed OffenseStatus = "CLOSED"
)

func (s OffenseStatus) valid() bool {
	return s == StatusOpen || s == StatusHidden || s == StatusClosed
}

// epochMillis is a time on the wire: an integer of milliseconds since the
// Unix epoch, or null. It also reads a numeric string and, so that a
// marshalled value reads back, an RFC 3339 string.
type epochMillis time.Time

func (t *epochMillis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = epochMillis{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if str == "" {
			*t = epochMillis{}
			return nil
		}
		if tm, err := time.Parse(time.RFC3339Nano, str); err == nil {
			*t = epochMillis(tm)
			return nil
		}
		s = str
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("qradar: time %s is not epoch milliseconds", b)
		}
		ms = int64(f)
	}
	*t = epochMillis(fromMillis(ms))
	return nil
}

func (t epochMillis) MarshalJSON() ([]byte, error) {
	tm := time.Time(t)
	if tm.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, tm.UnixMilli(), 10), nil
}

// fromMillis converts epoch milliseconds to a UTC time; 0 is the zero time.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Offense is a QRadar offense. Times are UTC; a time QRadar gives as null
// (CloseTime of an open offense) is the zero time, and a null string or id
// is empty or zero.
type Offense struct {
	ID                         OffenseID       `json:"id"`
	Description                string          `json:"description"`
	AssignedTo                 string          `json:"assigned_to"`
	Categories                 []string        `json:"categories"`
	CategoryCount              int             `json:"category_count"`
	PolicyCategoryCount        int             `json:"policy_category_count"`
	SecurityCategoryCount      int             `json:"security_category_count"`
	CloseTime                  time.Time       `json:"close_time"`
	ClosingUser                string          `json:"closing_user"`
	ClosingReasonID            ClosingReasonID `json:"closing_reason_id"`
	Credibility                int             `json:"credibility"`
	Relevance                  int             `json:"relevance"`
	Severity                   int             `json:"severity"`
	Magnitude                  int             `json:"magnitude"`
	DestinationNetworks        []string        `json:"destination_networks"`
	SourceNetwork              string          `json:"source_network"`
	DeviceCount                int             `json:"device_count"`
	EventCount                 int64           `json:"event_count"`
	FlowCount                  int64           `json:"flow_count"`
	Inactive                   bool            `json:"inactive"`
	LastUpdatedTime            time.Time       `json:"last_updated_time"`
	LocalDestinationCount      int             `json:"local_destination_count"`
	OffenseSource              string          `json:"offense_source"`
	OffenseType                OffenseTypeID   `json:"offense_type"`
	Protected                  bool            `json:"protected"`
	FollowUp                   bool            `json:"follow_up"`
	RemoteDestinationCount     int             `json:"remote_destination_count"`
	SourceCount                int             `json:"source_count"`
	StartTime                  time.Time       `json:"start_time"`
	Status                     OffenseStatus   `json:"status"`
	UsernameCount              int             `json:"username_count"`
	SourceAddressIDs           []AddressID     `json:"source_address_ids"`
	LocalDestinationAddressIDs []AddressID     `json:"local_destination_address_ids"`
	DomainID                   DomainID        `json:"domain_id"`
	FirstPersistedTime         time.Time       `json:"first_persisted_time"`
	LastPersistedTime          time.Time       `json:"last_persisted_time"`
	Rules                      []OffenseRule   `json:"rules"`
	LogSources                 []LogSource     `json:"log_sources"`
}

// UnmarshalJSON reads an offense as QRadar sends it; times are epoch
// milliseconds. Unknown keys are ignored, missing ones left zero.
func (o *Offense) UnmarshalJSON(b []byte) error {
	type plain Offense
	// The fields below sit shallower than plain's and so take their keys.
	w := struct {
		*plain
		CloseTime          epochMillis `json:"close_time"`
		LastUpdatedTime    epochMillis `json:"last_updated_time"`
		StartTime          epochMillis `json:"start_time"`
		FirstPersistedTime epochMillis `json:"first_persisted_time"`
		LastPersistedTime  epochMillis `json:"last_persisted_time"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	o.CloseTime = time.Time(w.CloseTime)
	o.LastUpdatedTime = time.Time(w.LastUpdatedTime)
	o.StartTime = time.Time(w.StartTime)
	o.FirstPersistedTime = time.Time(w.FirstPersistedTime)
	o.LastPersistedTime = time.Time(w.LastPersistedTime)
	return nil
}

// MarshalJSON writes an offense as QRadar does, with epoch milliseconds.
func (o Offense) MarshalJSON() ([]byte, error) {
	type plain Offense
	return json.Marshal(struct {
		plain
		CloseTime          epochMillis `json:"close_time"`
		LastUpdatedTime    epochMillis `json:"last_updated_time"`
		StartTime          epochMillis `json:"start_time"`
		FirstPersistedTime epochMillis `json:"first_persisted_time"`
		LastPersistedTime  epochMillis `json:"last_persisted_time"`
	}{plain(o), epochMillis(o.CloseTime), epochMillis(o.LastUpdatedTime), epochMillis(o.StartTime),
		epochMillis(o.FirstPersistedTime), epochMillis(o.LastPersistedTime)})
}

// OffenseRule is a rule that contributed to an offense.
type OffenseRule struct {
	ID RuleID `json:"id"`
	// Type is CRE_RULE, BUILDING_BLOCK_RULE or ADE_RULE.
	Type string `json:"type"`
}

// LogSource is a log source that contributed to an offense.
type LogSource struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	TypeID   int64  `json:"type_id"`
	TypeName string `json:"type_name"`
}

// Note is a note on an offense.
type Note struct {
	ID         NoteID    `json:"id"`
	CreateTime time.Time `json:"create_time"`
	// Username is who wrote it: a user name, or "API_user: <service>" for
	// an authorized-service token.
	Username string `json:"username"`
	Text     string `json:"note_text"`
}

// UnmarshalJSON reads a note as QRadar sends it.
func (n *Note) UnmarshalJSON(b []byte) error {
	type plain Note
	w := struct {
		*plain
		CreateTime epochMillis `json:"create_time"`
	}{plain: (*plain)(n)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n.CreateTime = time.Time(w.CreateTime)
	return nil
}

// MarshalJSON writes a note as QRadar does.
func (n Note) MarshalJSON() ([]byte, error) {
	type plain Note
	return json.Marshal(struct {
		plain
		CreateTime epochMillis `json:"create_time"`
	}{plain(n), epochMillis(n.CreateTime)})
}

// ClosingReason is a reason an offense may be closed with.
type ClosingReason struct {
	ID   ClosingReasonID `json:"id"`
	Text string          `json:"text"`
	// Deleted and reserved reasons cannot be used to close an offense.
	Deleted  bool `json:"is_deleted"`
	Reserved bool `json:"is_reserved"`
}

// OffenseType says what an offense is indexed on (its offense_source).
type OffenseType struct {
	ID   OffenseTypeID `json:"id"`
	Name string        `json:"name"`
	// PropertyName is the event or flow property ("sourceIP"), or a custom
	// property's id.
	PropertyName string `json:"property_name"`
	// DatabaseType is EVENTS, FLOWS or COMMON.
	DatabaseType string `json:"database_type"`
	Custom       bool   `json:"custom"`
}

// SourceAddress is an offense source address.
type SourceAddress struct {
	ID                         AddressID   `json:"id"`
	IP                         string      `json:"source_ip"`
	Magnitude                  int         `json:"magnitude"`
	Network                    string      `json:"network"`
	OffenseIDs                 []OffenseID `json:"offense_ids"`
	LocalDestinationAddressIDs []AddressID `json:"local_destination_address_ids"`
	EventFlowCount             int64       `json:"event_flow_count"`
	FirstEventFlowSeen         time.Time   `json:"first_event_flow_seen"`
	LastEventFlowSeen          time.Time   `json:"last_event_flow_seen"`
	DomainID                   DomainID    `json:"domain_id"`
}

// UnmarshalJSON reads a source address as QRadar sends it.
func (a *SourceAddress) UnmarshalJSON(b []byte) error {
	type plain SourceAddress
	w := struct {
		*plain
		FirstEventFlowSeen epochMillis `json:"first_event_flow_seen"`
		LastEventFlowSeen  epochMillis `json:"last_event_flow_seen"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	a.FirstEventFlowSeen, a.LastEventFlowSeen = time.Time(w.FirstEventFlowSeen), time.Time(w.LastEventFlowSeen)
	return nil
}

// MarshalJSON writes a source address as QRadar does.
func (a SourceAddress) MarshalJSON() ([]byte, error) {
	type plain SourceAddress
	return json.Marshal(struct {
		plain
		FirstEventFlowSeen epochMillis `json:"first_event_flow_seen"`
		LastEventFlowSeen  epochMillis `json:"last_event_flow_seen"`
	}{plain(a), epochMillis(a.FirstEventFlowSeen), epochMillis(a.LastEventFlowSeen)})
}

// LocalDestinationAddress is an offense local destination address.
type LocalDestinationAddress struct {
	ID                 AddressID   `json:"id"`
	IP                 string      `json:"local_destination_ip"`
	Magnitude          int         `json:"magnitude"`
	Network            string      `json:"network"`
	OffenseIDs         []OffenseID `json:"offense_ids"`
	SourceAddressIDs   []AddressID `json:"source_address_ids"`
	EventFlowCount     int64       `json:"event_flow_count"`
	FirstEventFlowSeen time.Time   `json:"first_event_flow_seen"`
	LastEventFlowSeen  time.Time   `json:"last_event_flow_seen"`
	DomainID           DomainID    `json:"domain_id"`
}

// UnmarshalJSON reads a local destination address as QRadar sends it.
func (a *LocalDestinationAddress) UnmarshalJSON(b []byte) error {
	type plain LocalDestinationAddress
	w := struct {
		*plain
		FirstEventFlowSeen epochMillis `json:"first_event_flow_seen"`
		LastEventFlowSeen  epochMillis `json:"last_event_flow_seen"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	a.FirstEventFlowSeen, a.LastEventFlowSeen = time.Time(w.FirstEventFlowSeen), time.Time(w.LastEventFlowSeen)
	return nil
}

// MarshalJSON writes a local destination address as QRadar does.
func (a LocalDestinationAddress) MarshalJSON() ([]byte, error) {
	type plain LocalDestinationAddress
	return json.Marshal(struct {
		plain
		FirstEventFlowSeen epochMillis `json:"first_event_flow_seen"`
		LastEventFlowSeen  epochMillis `json:"last_event_flow_seen"`
	}{plain(a), epochMillis(a.FirstEventFlowSeen), epochMillis(a.LastEventFlowSeen)})
}

// Rule is an analytics rule.
type Rule struct {
	ID   RuleID `json:"id"`
	Name string `json:"name"`
	// Type is EVENT, FLOW, COMMON, OFFENSE or USER.
	Type    string `json:"type"`
	Enabled bool   `json:"enabled"`
	Owner   string `json:"owner"`
	// Origin is SYSTEM, OVERRIDE or USER.
	Origin               string    `json:"origin"`
	BaseCapacity         int64     `json:"base_capacity"`
	BaseHostID           int64     `json:"base_host_id"`
	AverageCapacity      int64     `json:"average_capacity"`
	CapacityTimestamp    time.Time `json:"capacity_timestamp"`
	Identifier           string    `json:"identifier"`
	LinkedRuleIdentifier string    `json:"linked_rule_identifier"`
	CreationDate         time.Time `json:"creation_date"`
	ModificationDate     time.Time `json:"modification_date"`
}

// UnmarshalJSON reads a rule as QRadar sends it.
func (r *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	w := struct {
		*plain
		CapacityTimestamp epochMillis `json:"capacity_timestamp"`
		CreationDate      epochMillis `json:"creation_date"`
		ModificationDate  epochMillis `json:"modification_date"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.CapacityTimestamp = time.Time(w.CapacityTimestamp)
	r.CreationDate = time.Time(w.CreationDate)
	r.ModificationDate = time.Time(w.ModificationDate)
	return nil
}

// MarshalJSON writes a rule as QRadar does.
func (r Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	return json.Marshal(struct {
		plain
		CapacityTimestamp epochMillis `json:"capacity_timestamp"`
		CreationDate      epochMillis `json:"creation_date"`
		ModificationDate  epochMillis `json:"modification_date"`
	}{plain(r), epochMillis(r.CapacityTimestamp), epochMillis(r.CreationDate), epochMillis(r.ModificationDate)})
}

// Domain is a domain of a multi-tenant console. Without the System or
// Security Administrator capability only ID and Name are filled.
type Domain struct {
	ID          DomainID `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	TenantID    int64    `json:"tenant_id"`
	Deleted     bool     `json:"deleted"`
}
