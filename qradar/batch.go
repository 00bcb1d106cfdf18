package qradar

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// uniqueIDs returns the distinct ids, ascending.
func uniqueIDs[ID ~int64](ids []ID) []ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// inFilter is "id in (1,2,3)".
func inFilter[ID ~int64](ids []ID) string {
	var b strings.Builder
	b.WriteString("id in (")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(id), 10))
	}
	b.WriteByte(')')
	return b.String()
}

// fetchByIDs resolves ids on a list endpoint, batchSize ids per request
// (filter=id in (...)), one batch after the other. Ids the console does not
// know are simply absent from the result.
func fetchByIDs[T any, ID ~int64](ctx context.Context, c *Client, path string, ids []ID, fields []string) ([]T, error) {
	ids = uniqueIDs(ids)
	var out []T
	for batch := range slices.Chunk(ids, c.batchSize) {
		q := url.Values{"filter": {inFilter(batch)}}
		fieldsQuery(q, fields)
		items, err := listAllItems[T](ctx, c, path, q)
		if err != nil {
			return out, err
		}
		out = append(out, items...)
	}
	return out, nil
}
