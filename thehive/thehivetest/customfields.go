package thehivetest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

var customFieldTypes = []string{"string", "integer", "float", "boolean", "date", "url"}

// customFieldRec is a custom field definition.
type customFieldRec struct {
	base
	name        string
	displayName string
	group       string
	description string
	typ         string
	options     []any
	mandatory   bool
}

func (f *customFieldRec) render(*store) map[string]any {
	m := f.common("CustomField")
	m["name"] = f.name
	m["displayName"] = f.displayName
	m["group"] = f.group
	m["description"] = f.description
	m["type"] = f.typ
	opts := f.options
	if opts == nil {
		opts = []any{}
	}
	m["options"] = opts
	m["mandatory"] = f.mandatory
	return m
}

func (st *store) customField(ref string) *customFieldRec {
	if f, ok := st.customFields.get(ref); ok {
		return f
	}
	for _, f := range st.customFields.byID {
		if f.name == ref {
			return f
		}
	}
	return nil
}

func (st *store) addCustomField(f CustomField, now int64) error {
	if f.Name == "" {
		return fmt.Errorf("thehivetest: custom field without name")
	}
	if st.customField(f.Name) != nil {
		return fmt.Errorf("thehivetest: custom field %s already exists", f.Name)
	}
	typ := f.Type
	if typ == "" {
		typ = "string"
	}
	if !oneOf(typ, customFieldTypes...) {
		return fmt.Errorf("thehivetest: custom field %s: unknown type %q", f.Name, typ)
	}
	display := f.DisplayName
	if display == "" {
		display = f.Name
	}
	group := f.Group
	if group == "" {
		group = "default"
	}
	description := f.Description
	if description == "" {
		description = f.Name
	}
	rec := &customFieldRec{
		base: st.newBase("", AdminLogin, now),
		name: f.Name, displayName: display, group: group, description: description,
		typ: typ, options: normalizeOptions(f.Options), mandatory: f.Mandatory,
	}
	st.customFields.put(rec)
	st.refresh(rec)
	return nil
}

// normalizeOptions makes Go numbers look like decoded JSON numbers.
func normalizeOptions(opts []any) []any {
	if opts == nil {
		return nil
	}
	out := make([]any, len(opts))
	for i, o := range opts {
		out[i] = normalizeGo(o)
	}
	return out
}

func normalizeGo(v any) any {
	switch t := v.(type) {
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case float32:
		return float64(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	case []string:
		return strList(t)
	}
	return v
}

func oneOf(s string, values ...string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Server) customFieldRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/v1/customField", name: "list custom fields", handle: s.listCustomFields},
		{method: "POST", pattern: "/api/v1/customField", name: "create custom field", perm: "manageCustomField", handle: s.createCustomField},
		{method: "PATCH", pattern: "/api/v1/customField/{id}", name: "update custom field", perm: "manageCustomField", handle: s.updateCustomField},
		{method: "DELETE", pattern: "/api/v1/customField/{id}", name: "delete custom field", perm: "manageCustomField", handle: s.deleteCustomField},
	}
}

func (s *Server) listCustomFields(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		out := []any{}
		for _, f := range st.customFields.all() {
			out = append(out, f.view)
		}
		return ok(out), nil
	})
}

func (s *Server) createCustomField(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	def := CustomField{
		Name:        f.reqStr("name"),
		Group:       f.reqStr("group"),
		Description: f.reqStr("description"),
	}
	def.Type = f.reqStr("type")
	if def.Type != "" && !oneOf(def.Type, customFieldTypes...) {
		f.invalid("type", "string", f.m["type"], customFieldTypes...)
	}
	def.DisplayName, _ = f.str("displayName")
	def.Mandatory, _ = f.boolean("mandatory")
	if v, ok := f.value("options"); ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			f.invalid("options", "array", f.m["options"])
		}
		def.Options = list
	}
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if st.customField(def.Name) != nil {
			return reply{}, errCreate("CustomField %s already exists", def.Name)
		}
		if err := st.addCustomField(def, c.now); err != nil {
			return reply{}, errBadRequest("%v", err)
		}
		rec := st.customField(def.Name)
		rec.createdBy = c.login
		st.refresh(rec)
		return created(rec.view), nil
	})
}

func (s *Server) updateCustomField(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	display, hasDisplay := f.str("displayName")
	group, hasGroup := f.str("group")
	description, hasDescription := f.str("description")
	typ, hasType := f.enumStr("type", customFieldTypes...)
	mandatory, hasMandatory := f.boolean("mandatory")
	options, hasOptions := f.value("options")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		rec := st.customField(c.param("id"))
		if rec == nil {
			return reply{}, errNotFoundName("CustomField", c.param("id"))
		}
		if hasDisplay {
			rec.displayName = display
		}
		if hasGroup {
			rec.group = group
		}
		if hasDescription {
			rec.description = description
		}
		if hasType {
			rec.typ = typ
		}
		if hasMandatory {
			rec.mandatory = mandatory
		}
		if hasOptions {
			list, _ := options.([]any)
			rec.options = list
		}
		st.touch(rec, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) deleteCustomField(c *call) (reply, error) {
	force := c.r.URL.Query().Get("force") == "true"
	return c.write(func(st *store) (reply, error) {
		rec := st.customField(c.param("id"))
		if rec == nil {
			return reply{}, errNotFoundName("CustomField", c.param("id"))
		}
		if !force && st.customFieldUsed(rec.name) {
			return reply{}, errBadRequest("The custom field %s is used", rec.name)
		}
		st.customFields.remove(rec.id)
		for _, cs := range st.cases.byID {
			if cs.customFields.drop(rec.name) {
				st.refresh(cs)
			}
		}
		for _, a := range st.alerts.byID {
			if a.customFields.drop(rec.name) {
				st.refresh(a)
			}
		}
		return noContent(), nil
	})
}

func (st *store) customFieldUsed(name string) bool {
	for _, cs := range st.cases.byID {
		if cs.customFields.has(name) {
			return true
		}
	}
	for _, a := range st.alerts.byID {
		if a.customFields.has(name) {
			return true
		}
	}
	return false
}

// cfValue is one custom field value of a case, an alert or a template.
type cfValue struct {
	id    string
	name  string
	typ   string
	value any
	order int64
}

// cfValues is the ordered list of custom field values of an entity.
type cfValues []cfValue

func (l cfValues) has(name string) bool {
	for _, v := range l {
		if v.name == name {
			return true
		}
	}
	return false
}

// drop removes every value of name and reports whether one was there.
func (l *cfValues) drop(name string) bool {
	out := (*l)[:0]
	for _, v := range *l {
		if v.name != name {
			out = append(out, v)
		}
	}
	dropped := len(out) != len(*l)
	*l = out
	return dropped
}

// merge replaces the values of the names in add and appends new ones.
func (l cfValues) merge(add cfValues) cfValues {
	names := map[string]bool{}
	for _, v := range add {
		names[v.name] = true
	}
	var out cfValues
	for _, v := range l {
		if !names[v.name] {
			out = append(out, v)
		}
	}
	return append(out, add...)
}

// render lists the values sorted by order, as OutputCustomFieldValue.
func (l cfValues) render() []any {
	sorted := make(cfValues, len(l))
	copy(sorted, l)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].order < sorted[j].order })
	out := make([]any, 0, len(sorted))
	for _, v := range sorted {
		out = append(out, map[string]any{"_id": v.id, "name": v.name, "type": v.typ, "value": v.value, "order": v.order})
	}
	return out
}

// valueMap is the "customFieldValues" object of webhook renderings.
func (l cfValues) valueMap() map[string]any {
	m := map[string]any{}
	for _, v := range l {
		if prev, ok := m[v.name]; ok {
			if list, isList := prev.([]any); isList {
				m[v.name] = append(list, v.value)
			} else {
				m[v.name] = []any{prev, v.value}
			}
			continue
		}
		m[v.name] = v.value
	}
	return m
}

// cfInput is a custom field value as a request gives it, before it is
// checked against the definitions.
type cfInput struct {
	name     string
	value    any
	order    int64
	hasOrder bool
}

// parseCustomFields reads "customFields" in either of TheHive's forms: an
// object {"name": value} (a list value sets several values) or a list of
// {"name", "value", "order"}. isList tells which one was used, since a PATCH
// merges the object form and replaces with the list form.
func parseCustomFields(f fields, name string) (in []cfInput, isList, present bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return nil, false, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := decodeJSON(obj[k])
			if err != nil {
				continue
			}
			if list, isArr := v.([]any); isArr {
				for _, e := range list {
					in = append(in, cfInput{name: k, value: e})
				}
				continue
			}
			in = append(in, cfInput{name: k, value: v})
		}
		return in, false, true
	}
	items, ok := f.objects(name)
	if !ok {
		return nil, true, true
	}
	for _, it := range items {
		ci := cfInput{name: it.reqStr("name")}
		ci.value, _ = it.value("value")
		ci.order, ci.hasOrder = it.integer("order")
		in = append(in, ci)
	}
	return in, true, true
}

// resolveCustomFields checks values against their definitions: the field
// must exist and the value must have its type (and be one of its options).
func (st *store) resolveCustomFields(in []cfInput) (cfValues, error) {
	out := make(cfValues, 0, len(in))
	for i, ci := range in {
		def := st.customField(ci.name)
		if def == nil {
			return nil, errNotFoundName("CustomField", ci.name)
		}
		v, err := checkCustomValue(def, ci.value)
		if err != nil {
			return nil, err
		}
		order := ci.order
		if !ci.hasOrder {
			order = int64(i)
		}
		st.cfValues++
		out = append(out, cfValue{
			id:   "~" + strconv.FormatInt(9000000+st.cfValues, 10),
			name: def.name, typ: def.typ, value: v, order: order,
		})
	}
	return out, nil
}

func checkCustomValue(def *customFieldRec, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := errBadRequest("Invalid value for custom field %s: %s, expected %s", def.name, fieldValueString(v), def.typ)
	switch def.typ {
	case "string", "url":
		if _, ok := v.(string); !ok {
			return nil, bad
		}
	case "integer", "date":
		switch n := v.(type) {
		case int64:
		case float64:
			if n != math.Trunc(n) {
				return nil, bad
			}
			v = int64(n)
		default:
			return nil, bad
		}
	case "float":
		switch n := v.(type) {
		case int64:
			v = float64(n)
		case float64:
		default:
			return nil, bad
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, bad
		}
	}
	if len(def.options) > 0 {
		for _, o := range def.options {
			if fmt.Sprint(o) == fmt.Sprint(v) {
				return v, nil
			}
		}
		return nil, errBadRequest("Invalid value for custom field %s: %s is not one of its options", def.name, fieldValueString(v))
	}
	return v, nil
}
