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

// idName is an object read with fields=id,name.
type idName[ID ~int64] struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// lookupNames returns the name of each of ids that the list endpoint at
// path has, from names or in batches (filter=id in (...)&fields=id,name),
// and caches what it read, the ids the endpoint does not have included.
func lookupNames[ID ~int64](ctx context.Context, c *Client, names *cache[ID, string], path string, ids []ID) (map[ID]string, error) {
	out := make(map[ID]string, len(ids))
	missing := names.split(uniqueIDs(ids), out)
	if len(missing) == 0 {
		return out, nil
	}
	found, err := fetchByIDs[idName[ID]](ctx, c, path, missing, []string{"id", "name"})
	for _, f := range found {
		out[f.ID] = f.Name
		names.put(f.ID, f.Name, true)
	}
	if err != nil {
		return out, err
	}
	for _, id := range missing {
		if _, ok := out[id]; !ok {
			names.put(id, "", false)
		}
	}
	return out, nil
}
