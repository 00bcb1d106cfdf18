package thehive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidEvent is matched by the errors of [ParseEvent].
var ErrInvalidEvent = errors.New("thehive: invalid webhook event")

// Operation is what an event did to its object, the same for every
// TheHive version.
type Operation string

// Operations. TheHive 3 sends "Creation", "Update" and "Delete", TheHive 4
// and 5 "create", "update" and "delete" (and "merge" in TheHive 4); all
// come out as these values. An unknown operation is kept in lower case.
const (
	OpCreate Operation = "create"
	OpUpdate Operation = "update"
	OpDelete Operation = "delete"
	OpMerge  Operation = "merge"
)

// ObjectType is the kind of object an event is about, the same for every
// TheHive version ("case_artifact" in TheHive 3 and "Observable" in
// TheHive 5 are both ObjectObservable). An unknown type is kept with its
// first letter in upper case.
type ObjectType string

// Object types.
const (
	ObjectCase         ObjectType = "Case"
	ObjectAlert        ObjectType = "Alert"
	ObjectObservable   ObjectType = "Observable"
	ObjectTask         ObjectType = "Task"
	ObjectLog          ObjectType = "Log"
	ObjectComment      ObjectType = "Comment"
	ObjectJob          ObjectType = "Job"
	ObjectAction       ObjectType = "Action"
	ObjectAttachment   ObjectType = "Attachment"
	ObjectProcedure    ObjectType = "Procedure"
	ObjectPage         ObjectType = "Page"
	ObjectUser         ObjectType = "User"
	ObjectOrganisation ObjectType = "Organisation"
	ObjectShare        ObjectType = "Share"
	ObjectCaseTemplate ObjectType = "CaseTemplate"
	ObjectCustomField  ObjectType = "CustomField"
)

var objectTypes = map[string]ObjectType{
	"case":              ObjectCase,
	"alert":             ObjectAlert,
	"observable":        ObjectObservable,
	"artifact":          ObjectObservable,
	"case_artifact":     ObjectObservable,
	"task":              ObjectTask,
	"case_task":         ObjectTask,
	"log":               ObjectLog,
	"task_log":          ObjectLog,
	"case_task_log":     ObjectLog,
	"comment":           ObjectComment,
	"job":               ObjectJob,
	"case_artifact_job": ObjectJob,
	"action":            ObjectAction,
	"attachment":        ObjectAttachment,
	"procedure":         ObjectProcedure,
	"page":              ObjectPage,
	"user":              ObjectUser,
	"organisation":      ObjectOrganisation,
	"share":             ObjectShare,
	"casetemplate":      ObjectCaseTemplate,
	"case_template":     ObjectCaseTemplate,
	"customfield":       ObjectCustomField,
}

func normaliseObjectType(raw string) ObjectType {
	raw = strings.TrimSpace(raw)
	if t, ok := objectTypes[strings.ToLower(raw)]; ok {
		return t
	}
	if raw == "" {
		return ""
	}
	return ObjectType(strings.ToUpper(raw[:1]) + raw[1:])
}

func normaliseOperation(raw string) Operation {
	switch op := strings.ToLower(strings.TrimSpace(raw)); op {
	case "create", "creation":
		return OpCreate
	case "update":
		return OpUpdate
	case "delete", "deletion":
		return OpDelete
	case "merge":
		return OpMerge
	default:
		return Operation(op)
	}
}

// Event is one TheHive notification: an audit entry sent by a webhook.
type Event struct {
	// Version is the TheHive version whose format the payload has: 5, 4 or
	// 3. TheHive 5 sends the TheHive 3 format ("version 0" endpoints) with
	// an "audit" type and an organisation object; it is reported as 5.
	Version int
	// Operation is what happened, normalised (see [Operation]).
	Operation Operation
	// RawOperation is the operation as sent ("Update", "update"...).
	RawOperation string
	// ObjectType is the kind of object, normalised (see [ObjectType]).
	ObjectType ObjectType
	// RawObjectType is the object type as sent ("case_artifact",
	// "Observable"...).
	RawObjectType string
	// ObjectID is the id of the object.
	ObjectID string
	// RootID is the id of the root object: the case of a task, an
	// observable or a log; the alert of an alert's observable. On deletion
	// TheHive 5 puts the organisation's id there.
	RootID string
	// RequestID is the id of the HTTP request that made the change: one
	// request can emit several events.
	RequestID string
	// Main reports whether the event is the main operation of its request
	// (TheHive 5 "mainAction", TheHive 3 and 4 "base").
	Main bool
	// Date is when the operation happened.
	Date time.Time
	// User is the login that did it, when the payload says (TheHive 5).
	User string
	// Organisation and OrganisationID name the organisation the object
	// belongs to (TheHive 4 and 5).
	Organisation   string
	OrganisationID string
	// Details holds the fields the operation set: all of them for a
	// creation, the changed ones for an update.
	Details map[string]any
	// Object is the object after the operation, in the format of the
	// payload's version; empty after a deletion. See [Event.DecodeObject].
	Object json.RawMessage
	// Context is TheHive 5's context object (the related entity).
	Context json.RawMessage
}

// flexString reads a JSON string, number or boolean as text; null as "".
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		*f = ""
	default:
		*f = flexString(b)
	}
	return nil
}

// wireEvent holds every key of the three formats.
type wireEvent struct {
	Action         *flexString     `json:"action"`
	Operation      *flexString     `json:"operation"`
	ObjectType     flexString      `json:"objectType"`
	ObjectID       flexString      `json:"objectId"`
	RootID         flexString      `json:"rootId"`
	RequestID      flexString      `json:"requestId"`
	MainAction     json.RawMessage `json:"mainAction"`
	Base           json.RawMessage `json:"base"`
	CreatedAt      json.RawMessage `json:"_createdAt"`
	CreatedBy      flexString      `json:"_createdBy"`
	StartDate      json.RawMessage `json:"startDate"`
	Type           flexString      `json:"_type"`
	Details        json.RawMessage `json:"details"`
	Object         json.RawMessage `json:"object"`
	Context        json.RawMessage `json:"context"`
	Organisation   json.RawMessage `json:"organisation"`
	OrganisationID flexString      `json:"organisationId"`
}

// ParseEvent reads a webhook payload of TheHive 5 (both of its formats),
// TheHive 4 or TheHive 3. It is tolerant of the case of operations and
// object types and of missing optional keys; it fails, with an error
// matching [ErrInvalidEvent], only when the payload is not a JSON object or
// names no operation or no object type.
func ParseEvent(payload []byte) (*Event, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidEvent)
	}
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	e := &Event{
		RawObjectType: strings.TrimSpace(string(w.ObjectType)),
		ObjectID:      string(w.ObjectID),
		RootID:        string(w.RootID),
		RequestID:     string(w.RequestID),
		User:          string(w.CreatedBy),
		Object:        nonNull(w.Object),
		Context:       nonNull(w.Context),
	}
	switch {
	case w.Action != nil && *w.Action != "":
		e.RawOperation = string(*w.Action)
	case w.Operation != nil:
		e.RawOperation = string(*w.Operation)
	}
	e.RawOperation = strings.TrimSpace(e.RawOperation)
	if e.RawOperation == "" {
		return nil, fmt.Errorf("%w: no action or operation", ErrInvalidEvent)
	}
	if e.RawObjectType == "" {
		return nil, fmt.Errorf("%w: no objectType", ErrInvalidEvent)
	}
	e.Operation = normaliseOperation(e.RawOperation)
	e.ObjectType = normaliseObjectType(e.RawObjectType)
	e.Main = boolOf(w.MainAction) || boolOf(w.Base)
	if ms, ok := numberOf(w.CreatedAt); ok {
		e.Date = fromMillis(ms)
	} else if ms, ok := numberOf(w.StartDate); ok {
		e.Date = fromMillis(ms)
	}
	e.Details = map[string]any{}
	if d := nonNull(w.Details); len(d) > 0 && d[0] == '{' {
		if err := json.Unmarshal(d, &e.Details); err != nil {
			return nil, fmt.Errorf("%w: details: %v", ErrInvalidEvent, err)
		}
	}
	orgObject := false
	if o := nonNull(w.Organisation); len(o) > 0 {
		if o[0] == '{' {
			var org struct {
				Organisation   flexString `json:"organisation"`
				OrganisationID flexString `json:"organisationId"`
			}
			if err := json.Unmarshal(o, &org); err == nil {
				e.Organisation, e.OrganisationID = string(org.Organisation), string(org.OrganisationID)
				orgObject = true
			}
		} else {
			var name flexString
			if err := json.Unmarshal(o, &name); err == nil {
				e.Organisation = string(name)
			}
		}
	}
	if e.OrganisationID == "" {
		e.OrganisationID = string(w.OrganisationID)
	}
	e.Version = detectVersion(w, e.RawOperation, orgObject)
	return e, nil
}

func detectVersion(w wireEvent, op string, orgObject bool) int {
	switch {
	case w.Action != nil && *w.Action != "":
		return 5
	case orgObject, strings.EqualFold(string(w.Type), "audit"):
		return 5
	case len(nonNull(w.Organisation)) > 0 || w.OrganisationID != "":
		return 4
	case op != strings.ToLower(op):
		return 3 // "Creation", "Update", "Delete"
	}
	return 4
}

func nonNull(b json.RawMessage) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return b
}

func boolOf(b json.RawMessage) bool {
	var v bool
	return json.Unmarshal(b, &v) == nil && v
}

func numberOf(b json.RawMessage) (int64, bool) {
	var f float64
	if len(nonNull(b)) == 0 || json.Unmarshal(b, &f) != nil {
		return 0, false
	}
	return int64(f), true
}

// DecodeObject decodes the event's object into v: for TheHive 5 and 4
// events a *Case, *Alert, *Observable, *Task or *Log according to
// ObjectType; any type for the older formats (TheHive 3 objects use other
// field names, such as caseId and createdAt). It fails when the event has
// no object.
func (e *Event) DecodeObject(v any) error {
	if len(e.Object) == 0 {
		return fmt.Errorf("thehive: %s %s event has no object", e.ObjectType, e.Operation)
	}
	if err := json.Unmarshal(e.Object, v); err != nil {
		return fmt.Errorf("thehive: decoding the %s event's object: %w", e.ObjectType, err)
	}
	return nil
}

// ObjectField returns a field of the event's object by dotted path
// ("source", "case.number", "customFieldValues.business-unit"), as decoded
// from JSON.
func (e *Event) ObjectField(path string) (any, bool) {
	if len(e.Object) == 0 || e.Object[0] != '{' {
		return nil, false
	}
	var obj map[string]any
	if err := json.Unmarshal(e.Object, &obj); err != nil {
		return nil, false
	}
	return lookupPath(obj, path)
}

// DetailField returns a field of the event's details by dotted path.
func (e *Event) DetailField(path string) (any, bool) { return lookupPath(e.Details, path) }

func lookupPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (e *Event) detailString(k string) string { s, _ := e.Details[k].(string); return s }

func (e *Event) objectString(k string) string {
	v, _ := e.ObjectField(k)
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// CaseNumber returns the number of the case a case event is about (from
// "number", or TheHive 3's "caseId"), or 0.
func (e *Event) CaseNumber() int {
	if e.ObjectType != ObjectCase {
		return 0
	}
	for _, k := range []string{"number", "caseId"} {
		if v, ok := e.ObjectField(k); ok {
			if f, ok := v.(float64); ok && f > 0 {
				return int(f)
			}
		}
	}
	return 0
}

// MergedInto returns the id of the case a case was merged into, when the
// event says (TheHive 3's "mergeInto"), or "".
func (e *Event) MergedInto() string {
	if e.ObjectType != ObjectCase {
		return ""
	}
	if s, _ := e.Details["mergeInto"].(string); s != "" {
		return s
	}
	return e.objectString("mergeInto")
}

// MergedFrom returns the ids of the cases a new case was merged from, when
// the event says (TheHive 3's "mergeFrom").
func (e *Event) MergedFrom() []string {
	if e.ObjectType != ObjectCase {
		return nil
	}
	v, ok := e.DetailField("mergeFrom")
	if !ok {
		v, _ = e.ObjectField("mergeFrom")
	}
	list, _ := v.([]any)
	var ids []string
	for _, x := range list {
		if s, ok := x.(string); ok && s != "" {
			ids = append(ids, s)
		}
	}
	return ids
}

// IsCaseClosed reports whether the event closes a case: an update setting
// a status of TheHive 5's Closed stage (TruePositive, FalsePositive,
// Indeterminate, Other, Duplicated, or a custom status the object shows in
// the Closed stage), or TheHive 3 and 4's "Resolved". A case merged into
// another (TheHive 3) is not reported as closed: its alerts live on in the
// new case.
func (e *Event) IsCaseClosed() bool {
	if e.ObjectType != ObjectCase || e.Operation != OpUpdate || e.MergedInto() != "" {
		return false
	}
	if strings.EqualFold(e.detailString("stage"), string(StageClosed)) {
		return true
	}
	status, changed := e.Details["status"].(string)
	if !changed {
		return false
	}
	if strings.EqualFold(status, "Resolved") || CaseStatus(status).Closed() {
		return true
	}
	// A custom status: the object tells its stage (TheHive 5), or its
	// v0 status (TheHive 5 in the TheHive 3 format).
	return strings.EqualFold(e.objectString("stage"), string(StageClosed)) ||
		strings.EqualFold(e.objectString("status"), "Resolved")
}

// ignoredAlertStatuses are the statuses that end an alert without a case:
// TheHive 3's "Ignored" and TheHive 5's usual Closed-stage statuses.
var ignoredAlertStatuses = map[string]bool{
	"ignored": true, "falsepositive": true, "truepositive": true,
	"duplicated": true, "other": true, "indeterminate": true,
}

// IsAlertIgnoredOrRead reports whether the event ends an alert without
// making it a case: TheHive 3's status "Ignored", TheHive 4's "read" flag,
// or TheHive 5's Closed stage (a status such as FalsePositive, or any
// status the object shows in the Closed stage).
func (e *Event) IsAlertIgnoredOrRead() bool {
	if e.ObjectType != ObjectAlert || e.Operation != OpUpdate {
		return false
	}
	if read, ok := e.Details["read"].(bool); ok && read {
		return true
	}
	if strings.EqualFold(e.detailString("stage"), string(StageClosed)) {
		return true
	}
	status, changed := e.Details["status"].(string)
	if !changed {
		return false
	}
	return ignoredAlertStatuses[strings.ToLower(status)] ||
		strings.EqualFold(e.objectString("stage"), string(StageClosed))
}
