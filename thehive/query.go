package thehive

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/synapse-go/synapse/internal/pager"
)

// Filter is a condition of TheHive's query API, built with [Eq], [And] and
// the other constructors of this file. The zero Filter matches everything.
//
// Field names are the entity's JSON names ("status", "title", "tags",
// "_createdAt", "assignee"...); a custom field is reached as
// "customFields.<name>" ([CustomFieldPath]). Eq on a list field such as
// "tags" matches when the list holds the value. Values may be strings,
// numbers, booleans, the package's enum types, or time.Time, sent as epoch
// milliseconds.
type Filter struct {
	op  string
	arg any
}

// IsZero reports whether f is the empty filter.
func (f Filter) IsZero() bool { return f.op == "" }

// MarshalJSON encodes f as TheHive's filter object, e.g.
// {"_eq":{"_field":"status","_value":"New"}}. The zero Filter encodes as
// {}.
func (f Filter) MarshalJSON() ([]byte, error) {
	if f.IsZero() {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any{f.op: f.arg})
}

// String returns the JSON form of f.
func (f Filter) String() string {
	b, err := f.MarshalJSON()
	if err != nil {
		return "<invalid filter: " + err.Error() + ">"
	}
	return string(b)
}

// wireValue converts dates to epoch milliseconds.
func wireValue(v any) any {
	switch t := v.(type) {
	case time.Time:
		return millis(t)
	case *time.Time:
		if t == nil {
			return nil
		}
		return millis(*t)
	}
	return v
}

func fieldOp(op, field string, v any) Filter {
	return Filter{op: op, arg: map[string]any{"_field": field, "_value": wireValue(v)}}
}

// Eq matches entities whose field equals v (or, for a list, holds v).
func Eq(field string, v any) Filter { return fieldOp("_eq", field, v) }

// Ne matches entities whose field differs from v.
func Ne(field string, v any) Filter { return fieldOp("_ne", field, v) }

// Lt matches entities whose field is less than v.
func Lt(field string, v any) Filter { return fieldOp("_lt", field, v) }

// Lte matches entities whose field is less than or equal to v.
func Lte(field string, v any) Filter { return fieldOp("_lte", field, v) }

// Gt matches entities whose field is greater than v.
func Gt(field string, v any) Filter { return fieldOp("_gt", field, v) }

// Gte matches entities whose field is greater than or equal to v.
func Gte(field string, v any) Filter { return fieldOp("_gte", field, v) }

// Between matches entities whose field is in [from, to): from included, to
// excluded.
func Between(field string, from, to any) Filter {
	return Filter{op: "_between", arg: map[string]any{"_field": field, "_from": wireValue(from), "_to": wireValue(to)}}
}

// In matches entities whose field equals one of values.
func In(field string, values ...any) Filter {
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = wireValue(v)
	}
	return Filter{op: "_in", arg: map[string]any{"_field": field, "_values": vs}}
}

// Like matches entities whose field contains the text s (TheHive's _like;
// TheHive 4 also reads "*" as a wildcard in s).
func Like(field, s string) Filter { return fieldOp("_like", field, s) }

// Match matches entities whose field contains the word s (full-text).
func Match(field, s string) Filter { return fieldOp("_match", field, s) }

// StartsWith matches entities whose field starts with s.
func StartsWith(field, s string) Filter { return fieldOp("_startsWith", field, s) }

// EndsWith matches entities whose field ends with s.
func EndsWith(field, s string) Filter { return fieldOp("_endsWith", field, s) }

// Has matches entities in which field is set.
func Has(field string) Filter { return Filter{op: "_has", arg: field} }

// Contains matches entities in which field is set, with TheHive's older
// operator name, _contains (deprecated by TheHive in favour of [Has], and
// still understood). To match a list holding a value, use [Eq].
func Contains(field string) Filter { return Filter{op: "_contains", arg: field} }

// ID matches the entity with the given "_id" ("~123"; not a name or a
// number).
func ID(id string) Filter { return Filter{op: "_id", arg: id} }

// And matches entities matching every filter. Zero filters are skipped;
// And of a single filter is that filter.
func And(filters ...Filter) Filter { return combine("_and", filters) }

// Or matches entities matching at least one filter. Zero filters are
// skipped; Or of a single filter is that filter.
func Or(filters ...Filter) Filter { return combine("_or", filters) }

func combine(op string, filters []Filter) Filter {
	var fs []Filter
	for _, f := range filters {
		switch {
		case f.IsZero():
		case f.op == op:
			fs = append(fs, f.arg.([]Filter)...) // flatten And(And(a, b), c)
		default:
			fs = append(fs, f)
		}
	}
	switch len(fs) {
	case 0:
		return Filter{}
	case 1:
		return fs[0]
	}
	return Filter{op: op, arg: fs}
}

// Not matches entities that do not match f. Not of the zero Filter is the
// zero Filter.
func Not(f Filter) Filter {
	if f.IsZero() {
		return f
	}
	return Filter{op: "_not", arg: f}
}

// CustomFieldPath returns the query field under which custom field name is
// filtered and sorted: "customFields.<name>".
func CustomFieldPath(name string) string { return "customFields." + name }

// Sort orders query results on one field.
type Sort struct {
	// Field is the field's JSON name.
	Field string
	// Desc sorts in descending order.
	Desc bool
}

// Asc sorts on field in ascending order.
func Asc(field string) Sort { return Sort{Field: field} }

// Desc sorts on field in descending order.
func Desc(field string) Sort { return Sort{Field: field, Desc: true} }

// Query selects, orders and pages the results of a Find call.
type Query struct {
	// Filter selects results; the zero Filter selects all.
	Filter Filter
	// Sort orders results, by the first field, then the second...
	Sort []Sort
	// From is the position of the first result, from 0.
	From int
	// Limit is the maximum number of results. For Find calls zero means
	// no limit (every result from From on, in one answer); for FindAll
	// iterators it is the page size, 100 when zero.
	Limit int
	// ExtraData names computed data TheHive adds to each result's
	// ExtraData (e.g. "alertCount" for cases).
	ExtraData []string
}

// DefaultPageSize is the page size of FindAll iterators when Query.Limit
// is zero.
const DefaultPageSize = 100

func (q *Query) valid() error {
	if q == nil {
		return nil
	}
	if q.From < 0 || q.Limit < 0 {
		return invalid("query: negative From (%d) or Limit (%d)", q.From, q.Limit)
	}
	for i, s := range q.Sort {
		if s.Field == "" {
			return invalid("query: sort %d has no field", i)
		}
	}
	return nil
}

// stages returns the filter, sort and page operations of q. A page
// operation is sent when q pages (From, Limit) or asks for extra data.
func (q *Query) stages() []any {
	if q == nil {
		return nil
	}
	var ops []any
	if !q.Filter.IsZero() {
		ops = append(ops, map[string]any{"_name": "filter", q.Filter.op: q.Filter.arg})
	}
	if len(q.Sort) > 0 {
		fields := make([]map[string]string, len(q.Sort))
		for i, s := range q.Sort {
			dir := "asc"
			if s.Desc {
				dir = "desc"
			}
			fields[i] = map[string]string{s.Field: dir}
		}
		ops = append(ops, map[string]any{"_name": "sort", "_fields": fields})
	}
	if q.Limit > 0 || q.From > 0 || len(q.ExtraData) > 0 {
		page := map[string]any{"_name": "page", "from": q.From}
		if q.Limit > 0 {
			page["to"] = q.From + q.Limit
		} else {
			page["to"] = maxTo
		}
		if len(q.ExtraData) > 0 {
			page["extraData"] = q.ExtraData
		}
		ops = append(ops, page)
	}
	return ops
}

// maxTo stands for "no upper bound" in a page operation.
const maxTo = 1<<31 - 1

// FilterOp returns f as a "filter" operation of the query API, for
// [Client.RawQuery].
func FilterOp(f Filter) map[string]any {
	if f.IsZero() {
		return map[string]any{"_name": "filter", "_any": nil}
	}
	return map[string]any{"_name": "filter", f.op: f.arg}
}

// start is the first operation of a query: a listing ({"_name":"listCase"})
// or a traversal from one entity.
type start []any

func listOp(name string) start { return start{map[string]any{"_name": name}} }

func fromOp(getter, id, traversal string) start {
	return start{map[string]any{"_name": getter, "idOrName": id}, map[string]any{"_name": traversal}}
}

// query sends the operations ops to the query API (POST /api/v1/query) and
// decodes the answer into out. label, when set, names the query in the URL
// (?name=cases).
func (c *Client) query(ctx context.Context, label string, ops []any, out any, opts []CallOption) error {
	r := request{
		method:     http.MethodPost,
		path:       "/api/v1/query",
		in:         map[string]any{"query": ops},
		idempotent: true,
	}
	if label != "" {
		r.query = url.Values{"name": {label}}
	}
	return c.doJSON(ctx, r, out, opts)
}

// find runs a query and decodes its list of results.
func find[T any](ctx context.Context, c *Client, label string, st start, q *Query, opts []CallOption) ([]T, error) {
	if err := q.valid(); err != nil {
		return nil, err
	}
	ops := append(append([]any(nil), st...), q.stages()...)
	var out []T
	if err := c.query(ctx, label, ops, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// findAll pages through a query, DefaultPageSize results (or q.Limit) at a
// time. Results are sorted by creation date when q does not sort, so that
// pages do not overlap.
func findAll[T any](ctx context.Context, c *Client, label string, st start, q *Query, opts []CallOption) iter.Seq2[T, error] {
	var base Query
	if q != nil {
		base = *q
		base.Sort = append([]Sort(nil), q.Sort...)
		base.ExtraData = append([]string(nil), q.ExtraData...)
	}
	size := base.Limit
	if size == 0 {
		size = DefaultPageSize
	}
	if len(base.Sort) == 0 {
		base.Sort = []Sort{Asc("_createdAt")}
	}
	if err := base.valid(); err != nil {
		return func(yield func(T, error) bool) {
			var zero T
			yield(zero, err)
		}
	}
	first := base.From
	return pager.Offset(ctx, size, func(ctx context.Context, offset, size int) ([]T, int, error) {
		page := base
		page.From, page.Limit = offset+first, size
		items, err := find[T](ctx, c, label, st, &page, opts)
		return items, -1, err
	})
}

// count runs a query ending with a count operation.
func count(ctx context.Context, c *Client, label string, st start, f Filter, opts []CallOption) (int, error) {
	ops := append([]any(nil), st...)
	if !f.IsZero() {
		ops = append(ops, FilterOp(f))
	}
	ops = append(ops, map[string]any{"_name": "count"})
	var n json.Number
	if err := c.query(ctx, label, ops, &n, opts); err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, fmt.Errorf("thehive: count: unexpected answer %q", n)
	}
	return v, nil
}

// getOne runs a getter query (getLog, getComment...) and returns its single
// result, or an error matching ErrNotFound when the list is empty.
func getOne[T any](ctx context.Context, c *Client, getter, kind, id string, opts []CallOption) (*T, error) {
	if id == "" {
		return nil, invalid("empty %s id", kind)
	}
	items, err := find[T](ctx, c, getter, start{map[string]any{"_name": getter, "idOrName": id}}, nil, opts)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, kind, id)
	}
	return &items[0], nil
}
