package thehive

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Ptr returns a pointer to v. It fills the optional fields of update
// requests, where a nil pointer means "leave unchanged":
//
//	thehive.CaseUpdate{Severity: thehive.Ptr(thehive.SeverityHigh)}
func Ptr[T any](v T) *T { return &v }

// Identifiers. Every TheHive entity has an opaque id of the form "~123";
// the distinct types keep a case id from being passed where an alert id is
// expected.
type (
	// CaseID identifies a case: its "_id", or its number (see [CaseNumber]).
	CaseID string
	// AlertID identifies an alert.
	AlertID string
	// ObservableID identifies an observable.
	ObservableID string
	// TaskID identifies a task.
	TaskID string
	// LogID identifies a task log.
	LogID string
	// CommentID identifies a comment.
	CommentID string
	// AttachmentID identifies an attachment (its "_id").
	AttachmentID string
	// JobID identifies a Cortex analyzer job.
	JobID string
	// UserID identifies a user: its "_id" or its login.
	UserID string
	// CustomFieldID identifies a custom field definition: its "_id" or name.
	CustomFieldID string
	// CaseTemplateID identifies a case template: its "_id" or name.
	CaseTemplateID string
	// ObservableTypeID identifies an observable type: its "_id" or name.
	ObservableTypeID string
)

// CaseNumber returns the id by which TheHive finds the case with number n
// in the current organisation: wherever a CaseID is expected, the case
// number works as well as the "_id".
func CaseNumber(n int) CaseID { return CaseID(strconv.Itoa(n)) }

// Severity is the severity of a case, an alert or a case template.
type Severity int

// Severities. The zero value means "not set": TheHive then applies its
// default, SeverityMedium.
const (
	SeverityLow      Severity = 1
	SeverityMedium   Severity = 2
	SeverityHigh     Severity = 3
	SeverityCritical Severity = 4
)

// String returns TheHive's label for s ("LOW", "MEDIUM", "HIGH",
// "CRITICAL").
func (s Severity) String() string {
	switch s {
	case SeverityLow:
		return "LOW"
	case SeverityMedium:
		return "MEDIUM"
	case SeverityHigh:
		return "HIGH"
	case SeverityCritical:
		return "CRITICAL"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s >= SeverityLow && s <= SeverityCritical }

// TLP is a Traffic Light Protocol level (TLP 2.0 numbering, TheHive 5.2
// and later).
type TLP int

// TLP levels. TLPClear is 0, so create requests take a *TLP: nil lets
// TheHive apply its default, TLPAmber.
const (
	TLPClear       TLP = 0
	TLPGreen       TLP = 1
	TLPAmber       TLP = 2
	TLPAmberStrict TLP = 3
	TLPRed         TLP = 4
)

// String returns TheHive's label for t ("CLEAR", "GREEN", "AMBER",
// "AMBER+STRICT", "RED").
func (t TLP) String() string {
	switch t {
	case TLPClear:
		return "CLEAR"
	case TLPGreen:
		return "GREEN"
	case TLPAmber:
		return "AMBER"
	case TLPAmberStrict:
		return "AMBER+STRICT"
	case TLPRed:
		return "RED"
	}
	return "TLP(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the five TLP levels.
func (t TLP) Valid() bool { return t >= TLPClear && t <= TLPRed }

// PAP is a Permissible Actions Protocol level.
type PAP int

// PAP levels. PAPClear is 0, so create requests take a *PAP: nil lets
// TheHive apply its default, PAPAmber.
const (
	PAPClear PAP = 0
	PAPGreen PAP = 1
	PAPAmber PAP = 2
	PAPRed   PAP = 3
)

// String returns TheHive's label for p ("CLEAR", "GREEN", "AMBER", "RED").
func (p PAP) String() string {
	switch p {
	case PAPClear:
		return "CLEAR"
	case PAPGreen:
		return "GREEN"
	case PAPAmber:
		return "AMBER"
	case PAPRed:
		return "RED"
	}
	return "PAP(" + strconv.Itoa(int(p)) + ")"
}

// Valid reports whether p is one of the four PAP levels.
func (p PAP) Valid() bool { return p >= PAPClear && p <= PAPRed }

// CaseStatus is the status of a TheHive 5 case. It holds the resolution
// too: a case is closed by setting one of the Closed-stage statuses.
// Organisations may define their own statuses, so other values occur.
type CaseStatus string

// Built-in case statuses.
const (
	CaseStatusNew           CaseStatus = "New"
	CaseStatusInProgress    CaseStatus = "InProgress"
	CaseStatusIndeterminate CaseStatus = "Indeterminate"
	CaseStatusFalsePositive CaseStatus = "FalsePositive"
	CaseStatusTruePositive  CaseStatus = "TruePositive"
	CaseStatusOther         CaseStatus = "Other"
	CaseStatusDuplicated    CaseStatus = "Duplicated"
)

// Closed reports whether s is one of the built-in statuses of the Closed
// stage. For a custom status, read the case's Stage instead.
func (s CaseStatus) Closed() bool {
	switch s {
	case CaseStatusIndeterminate, CaseStatusFalsePositive, CaseStatusTruePositive,
		CaseStatusOther, CaseStatusDuplicated:
		return true
	}
	return false
}

// Stage is the stage a case or an alert is in, derived by TheHive from its
// status.
type Stage string

// Stages of cases and alerts. StageImported applies to alerts only.
const (
	StageNew        Stage = "New"
	StageInProgress Stage = "InProgress"
	StageClosed     Stage = "Closed"
	StageImported   Stage = "Imported"
)

// ImpactStatus says whether a closed case had an impact.
type ImpactStatus string

// Impact statuses.
const (
	ImpactNotApplicable ImpactStatus = "NotApplicable"
	ImpactWith          ImpactStatus = "WithImpact"
	ImpactNone          ImpactStatus = "NoImpact"
)

// AlertStatus is the status of an alert. Besides the built-in values,
// organisations define their own (of the Closed stage, typically).
type AlertStatus string

// Alert statuses. AlertStatusImported is set by TheHive when the alert is
// promoted to or merged into a case; it cannot be chosen.
const (
	AlertStatusNew        AlertStatus = "New"
	AlertStatusInProgress AlertStatus = "InProgress"
	AlertStatusImported   AlertStatus = "Imported"
)

// TaskStatus is the status of a task.
type TaskStatus string

// Task statuses.
const (
	TaskWaiting    TaskStatus = "Waiting"
	TaskInProgress TaskStatus = "InProgress"
	TaskCompleted  TaskStatus = "Completed"
	TaskCancel     TaskStatus = "Cancel"
)

// Valid reports whether s is one of the four task statuses.
func (s TaskStatus) Valid() bool {
	switch s {
	case TaskWaiting, TaskInProgress, TaskCompleted, TaskCancel:
		return true
	}
	return false
}

// JobStatus is the status of a Cortex job.
type JobStatus string

// Job statuses.
const (
	JobWaiting    JobStatus = "Waiting"
	JobInProgress JobStatus = "InProgress"
	JobSuccess    JobStatus = "Success"
	JobFailure    JobStatus = "Failure"
	JobDeleted    JobStatus = "Deleted"
)

// Done reports whether a job in status s has finished.
func (s JobStatus) Done() bool { return s == JobSuccess || s == JobFailure || s == JobDeleted }

// Built-in observable data types.
const (
	DataAutonomousSystem = "autonomous-system"
	DataDomain           = "domain"
	DataFile             = "file"
	DataFilename         = "filename"
	DataFQDN             = "fqdn"
	DataHash             = "hash"
	DataHostname         = "hostname"
	DataIP               = "ip"
	DataMail             = "mail"
	DataMailSubject      = "mail-subject"
	DataOther            = "other"
	DataRegexp           = "regexp"
	DataRegistry         = "registry"
	DataURIPath          = "uri_path"
	DataURL              = "url"
	DataUserAgent        = "user-agent"
)

// millis returns t as epoch milliseconds, TheHive's date format.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts epoch milliseconds to a UTC time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// timeField names a date field of an output type, for the JSON codec.
type timeField struct {
	name string
	t    *time.Time
}

// unmarshalWithTimes decodes b into plain (a pointer to a struct whose time
// fields are tagged `json:"-"`) and the epoch-millisecond fields into
// their time.Time targets. A null or absent date leaves the zero time.
func unmarshalWithTimes(b []byte, plain any, times []timeField) error {
	if err := json.Unmarshal(b, plain); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range times {
		v, ok := raw[f.name]
		if !ok || string(v) == "null" {
			continue
		}
		var ms float64
		if err := json.Unmarshal(v, &ms); err != nil {
			return fmt.Errorf("field %s: want epoch milliseconds, got %s", f.name, truncate(string(v), 40))
		}
		*f.t = fromMillis(int64(ms))
	}
	return nil
}

// marshalWithTimes encodes plain and appends the non-zero dates as epoch
// milliseconds.
func marshalWithTimes(plain any, times []timeField) ([]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[len(b)-1] != '}' {
		return b, nil
	}
	out := b[:len(b)-1]
	empty := len(out) == 1
	for _, f := range times {
		if f.t.IsZero() {
			continue
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = strconv.AppendQuote(out, f.name)
		out = append(out, ':')
		out = strconv.AppendInt(out, millis(*f.t), 10)
	}
	return append(out, '}'), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
