package thehivetest

import (
	"strconv"
	"strings"
)

// store holds every object of the fake. It is guarded by Server.mu: handlers
// take the write lock to change it and the read lock to look at it, and
// never hold either while they wait or stream a request body.
type store struct {
	keepBytes int64
	nextID    int64

	orgs     table[*orgRec]
	users    table[*userRec]
	profiles table[*profileRec]

	cases       table[*caseRec]
	alerts      table[*alertRec]
	observables table[*observableRec]
	tasks       table[*taskRec]
	logs        table[*logRec]
	comments    table[*commentRec]
	attachments table[*attachmentRec]
	procedures  table[*procedureRec]
	pages       table[*pageRec]
	events      table[*customEventRec]

	customFields    table[*customFieldRec]
	templates       table[*templateRec]
	pageTemplates   table[*pageTemplateRec]
	observableTypes table[*observableTypeRec]
	jobs            table[*jobRec]
	actions         table[*actionRec]
	analyzers       []Analyzer

	caseNumbers map[string]int64 // organisation id -> last case number
	audit       []map[string]any // TheHive 5 audit events, oldest first
	cfValues    int64            // ids of custom field values
}

// base is what every entity has: its id, an insertion sequence (the tie
// breaker of every listing), its organisation, the audit fields and its
// rendered form.
type base struct {
	id        string
	seq       int64
	orgID     string
	createdBy string
	createdAt int64
	updatedBy string
	updatedAt int64 // 0 until the first update
	view      map[string]any
}

func (b *base) meta() *base { return b }

// record is an entity stored in a table. render builds its API form, which
// the table caches in view after every change: a rendered map is never
// modified, so handlers may encode it after releasing the lock.
type record interface {
	meta() *base
	render(st *store) map[string]any
}

// common returns the fields every entity renders.
func (b *base) common(typ string) map[string]any {
	m := map[string]any{
		"_id":        b.id,
		"_createdBy": b.createdBy,
		"_createdAt": b.createdAt,
		"extraData":  map[string]any{},
	}
	if typ != "" {
		m["_type"] = typ
	}
	if b.updatedAt != 0 {
		m["_updatedBy"] = b.updatedBy
		m["_updatedAt"] = b.updatedAt
	}
	return m
}

// table is a set of records of one kind, indexed by id and kept in
// creation order.
type table[T record] struct {
	byID  map[string]T
	order []T // creation order; may hold removed records until compacted
	gone  int // removed records still in order
}

func (t *table[T]) get(id string) (T, bool) {
	r, ok := t.byID[id]
	return r, ok
}

func (t *table[T]) put(r T) {
	if t.byID == nil {
		t.byID = make(map[string]T)
	}
	id := r.meta().id
	if old, exists := t.byID[id]; !exists {
		t.order = append(t.order, r)
	} else if any(old) != any(r) {
		for i, o := range t.order {
			if any(o) == any(old) {
				t.order[i] = r
			}
		}
	}
	t.byID[id] = r
}

func (t *table[T]) remove(id string) {
	if _, ok := t.byID[id]; !ok {
		return
	}
	delete(t.byID, id)
	t.gone++
	if t.gone > len(t.order)/2 {
		live := t.order[:0]
		for _, r := range t.order {
			if _, ok := t.byID[r.meta().id]; ok {
				live = append(live, r)
			}
		}
		clear(t.order[len(live):])
		t.order, t.gone = live, 0
	}
}

// all returns the records in creation order.
func (t *table[T]) all() []T { return t.filter(func(T) bool { return true }) }

// filter returns the records for which keep is true, in creation order.
func (t *table[T]) filter(keep func(T) bool) []T {
	var out []T
	for _, r := range t.order {
		if cur, ok := t.byID[r.meta().id]; ok && any(cur) == any(r) && keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// findInOrg returns the record id of t if it belongs to the caller's
// organisation; otherwise it answers 404 "<label> not found", as TheHive
// does for an object of another organisation.
func findInOrg[T record](c *call, t *table[T], id, label string) (T, error) {
	r, ok := t.get(id)
	if !ok || r.meta().orgID != c.orgID {
		var zero T
		return zero, errNotFound(label)
	}
	return r, nil
}

// newBase allocates an id. TheHive's ids are "~" and a number; the fake
// spaces them so that an id is never mistaken for a case number.
func (st *store) newBase(orgID, by string, now int64) base {
	st.nextID += 8
	return base{
		id:        "~" + strconv.FormatInt(40960+st.nextID, 10),
		seq:       st.nextID,
		orgID:     orgID,
		createdBy: by,
		createdAt: now,
	}
}

// refresh re-renders r after a change.
func (st *store) refresh(r record) { r.meta().view = r.render(st) }

// touch records an update by login at now and re-renders r.
func (st *store) touch(r record, login string, now int64) {
	b := r.meta()
	b.updatedBy, b.updatedAt = login, now
	st.refresh(r)
}

// isID reports whether s has the form of an entity id ("~123").
func isID(s string) bool {
	if len(s) < 2 || s[0] != '~' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Labels of TheHive 5.2 and later.
var (
	severityLabels = map[int64]string{1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "CRITICAL"}
	tlpLabels      = map[int64]string{0: "CLEAR", 1: "GREEN", 2: "AMBER", 3: "AMBER+STRICT", 4: "RED"}
	papLabels      = map[int64]string{0: "CLEAR", 1: "GREEN", 2: "AMBER", 3: "RED"}
)

// tagSet keeps tags unique in first-seen order.
func tagSet(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, t := range l {
			t = strings.TrimSpace(t)
			if t == "" || seen[t] {
				continue
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func removeTags(tags, drop []string) []string {
	gone := map[string]bool{}
	for _, t := range drop {
		gone[t] = true
	}
	var out []string
	for _, t := range tags {
		if !gone[t] {
			out = append(out, t)
		}
	}
	return out
}

// updateTags applies the "tags" (a new list), "addTags" and "removeTags" of
// an update to tags, and records the result in the event details d.
func updateTags(f fields, tags []string, d map[string]any) []string {
	changed := false
	if l, ok := f.strs("tags"); ok {
		tags, changed = tagSet(l), true
	}
	if l, ok := f.strs("addTags"); ok {
		tags, changed = tagSet(tags, l), true
	}
	if l, ok := f.strs("removeTags"); ok {
		tags, changed = removeTags(tags, l), true
	}
	if changed {
		d["tags"] = strList(tags)
	}
	return tags
}

// strList renders a list of strings as JSON values.
func strList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// putStr sets m[k] = v unless v is empty.
func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// putDate sets m[k] = v unless v is zero (no date).
func putDate(m map[string]any, k string, v int64) {
	if v != 0 {
		m[k] = v
	}
}
