package thehive

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// CustomFieldValue is the value of a custom field on a case, an alert or a
// case template.
type CustomFieldValue struct {
	// ID is the id of the value (not of the field's definition).
	ID string `json:"_id,omitempty"`
	// Name is the custom field's name.
	Name string `json:"name"`
	// Type is the custom field's type: "string", "integer", "float",
	// "boolean", "date" or "url".
	Type string `json:"type,omitempty"`
	// Value is the value as decoded from JSON: a string, a float64, a bool,
	// nil, or for a date the epoch milliseconds as a float64 (see
	// [CustomFieldValue.Time]).
	Value any `json:"value"`
	// Order is the field's position in the UI.
	Order int `json:"order"`
}

// String returns the value as text: a string as is, a number without
// exponent, nil as "".
func (v CustomFieldValue) String() string {
	switch x := v.Value.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v.Value)
	if err != nil {
		return fmt.Sprint(v.Value)
	}
	return string(b)
}

// Time returns a date value.
func (v CustomFieldValue) Time() (time.Time, bool) {
	ms, ok := v.Value.(float64)
	if !ok {
		return time.Time{}, false
	}
	return fromMillis(int64(ms)), true
}

// CustomFields are the custom field values to set on a case, an alert or
// a case template, by field name. Values are strings, numbers, booleans or
// time.Time for date fields (sent as epoch milliseconds). A nil value
// clears the field.
type CustomFields map[string]any

// wire returns the object form TheHive accepts ({"name": value}).
func (cf CustomFields) wire() map[string]any {
	if len(cf) == 0 {
		return nil
	}
	out := make(map[string]any, len(cf))
	for k, v := range cf {
		out[k] = wireValue(v)
	}
	return out
}

func (cf CustomFields) valid(what string) error {
	for k := range cf {
		if strings.TrimSpace(k) == "" {
			return invalid("%s: custom field with an empty name", what)
		}
	}
	return nil
}

// lookupCustomField finds a value by field name.
func lookupCustomField(values []CustomFieldValue, name string) (CustomFieldValue, bool) {
	for _, v := range values {
		if v.Name == name {
			return v, true
		}
	}
	return CustomFieldValue{}, false
}

// body builds a JSON request body, skipping unset values.
type body map[string]any

func (b body) str(k, v string) {
	if v != "" {
		b[k] = v
	}
}

func (b body) strs(k string, v []string) {
	if len(v) > 0 {
		b[k] = v
	}
}

func (b body) date(k string, t time.Time) {
	if !t.IsZero() {
		b[k] = millis(t)
	}
}

func (b body) flag(k string, v bool) {
	if v {
		b[k] = true
	}
}

func (b body) num(k string, v int) {
	if v != 0 {
		b[k] = v
	}
}

// levels sets the TLP and PAP that are given.
func (b body) levels(t *TLP, p *PAP) {
	if t != nil {
		b["tlp"] = *t
	}
	if p != nil {
		b["pap"] = *p
	}
}

func (b body) customFields(cf CustomFields) {
	if w := cf.wire(); w != nil {
		b["customFields"] = w
	}
}

// tasks sets the tasks of a case or a template.
func (b body) tasks(tasks []TaskCreate) error {
	out := make([]body, len(tasks))
	for i := range tasks {
		tb, err := tasks[i].body()
		if err != nil {
			return err
		}
		out[i] = tb
	}
	b["tasks"] = out
	return nil
}

// patch builds a PATCH body from optional fields; remove lists fields to
// send as null, which makes TheHive remove them.
type patch struct {
	b       body
	allowed map[string]bool // fields of the entity, for checking remove
}

func newPatch() *patch { return &patch{b: body{}, allowed: map[string]bool{}} }

func setp[T any](p *patch, k string, v *T) {
	p.allowed[k] = true
	if v != nil {
		p.b[k] = *v
	}
}

func (p *patch) date(k string, v *time.Time) {
	p.allowed[k] = true
	if v != nil {
		p.b[k] = millis(*v)
	}
}

func (p *patch) list(k string, v []string) {
	p.allowed[k] = true
	if v != nil {
		p.b[k] = v
	}
}

func (p *patch) customFields(cf CustomFields) {
	p.allowed["customFields"] = true
	p.b.customFields(cf)
}

// finish applies the removals and checks them.
func (p *patch) finish(what string, remove []string) (body, error) {
	for _, k := range remove {
		if !p.allowed[k] {
			return nil, invalid("%s: cannot remove unknown field %q (known: %s)", what, k, strings.Join(p.known(), ", "))
		}
		if _, set := p.b[k]; set {
			return nil, invalid("%s: field %q is both set and removed", what, k)
		}
		p.b[k] = nil
	}
	if len(p.b) == 0 {
		return nil, invalid("%s: nothing to update", what)
	}
	return p.b, nil
}

func (p *patch) known() []string {
	ks := make([]string, 0, len(p.allowed))
	for k := range p.allowed {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkLevels validates the optional severity, TLP and PAP of a request.
func checkLevels(what string, s *Severity, t *TLP, p *PAP) error {
	switch {
	case s != nil && !s.Valid():
		return invalid("%s: severity %d out of range 1..4", what, int(*s))
	case t != nil && !t.Valid():
		return invalid("%s: tlp %d out of range 0..4", what, int(*t))
	case p != nil && !p.Valid():
		return invalid("%s: pap %d out of range 0..3", what, int(*p))
	}
	return nil
}

// checkCreate validates what the creations of cases, alerts and case
// templates share: the severity (zero lets TheHive choose), TLP, PAP and
// custom fields.
func checkCreate(what string, s Severity, t *TLP, p *PAP, cf CustomFields) error {
	var sp *Severity
	if s != 0 {
		sp = &s
	}
	if err := checkLevels(what, sp, t, p); err != nil {
		return err
	}
	return cf.valid(what)
}
