package thehivetest

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// A route is one endpoint of the fake: its method and path pattern, the name
// TheHive gives the operation (used in authorisation errors), the permission
// it needs and its handler.
type route struct {
	method  string
	pattern string // "/api/v1/case/{id}": literal segments and {name} wildcards
	name    string // TheHive's entry point name, e.g. "create case"
	perm    string // permission required in the current organisation, "" for none
	public  bool   // served without authentication
	control bool   // a test-control route: never delayed, faulted or counted
	handle  func(*call) (reply, error)
	counted string // "METHOD pattern", the key of the request counters
}

// router matches request paths segment by segment. A literal segment is
// preferred to a wildcard at every level, so "/api/v1/case/_bulk" wins over
// "/api/v1/case/{id}" whatever the registration order, and overlapping
// patterns never conflict (TheHive's own router behaves the same way).
type router struct {
	root   node
	routes []*route
}

type node struct {
	literal  map[string]*node
	wildcard *node
	param    string
	methods  map[string]*route
}

func (rt *router) add(r *route) {
	r.counted = r.method + " " + r.pattern
	n := &rt.root
	for _, seg := range splitPath(r.pattern) {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if n.wildcard == nil {
				n.wildcard = &node{param: seg[1 : len(seg)-1]}
			}
			n = n.wildcard
			continue
		}
		if n.literal == nil {
			n.literal = make(map[string]*node)
		}
		child := n.literal[seg]
		if child == nil {
			child = &node{}
			n.literal[seg] = child
		}
		n = child
	}
	if n.methods == nil {
		n.methods = make(map[string]*route)
	}
	if _, dup := n.methods[r.method]; dup {
		panic("thehivetest: duplicate route " + r.counted)
	}
	n.methods[r.method] = r
	rt.routes = append(rt.routes, r)
}

// match returns the route for method and path and the values of its
// wildcards, or nil when nothing matches.
func (rt *router) match(method, path string) (*route, map[string]string) {
	segs := splitPath(path)
	var params map[string]string
	var walk func(n *node, i int) *route
	walk = func(n *node, i int) *route {
		if i == len(segs) {
			return n.methods[method]
		}
		if child := n.literal[segs[i]]; child != nil {
			if r := walk(child, i+1); r != nil {
				return r
			}
		}
		if n.wildcard != nil && segs[i] != "" {
			if r := walk(n.wildcard, i+1); r != nil {
				if params == nil {
					params = make(map[string]string)
				}
				params[n.wildcard.param] = segs[i]
				return r
			}
		}
		return nil
	}
	r := walk(&rt.root, 0)
	return r, params
}

// patterns lists every route as "METHOD pattern", sorted.
func (rt *router) patterns() []string {
	out := make([]string, 0, len(rt.routes))
	for _, r := range rt.routes {
		out = append(out, r.counted)
	}
	sort.Strings(out)
	return out
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// pathValue decodes one escaped path segment as TheHive would see it.
func pathValue(raw string) string {
	if !strings.Contains(raw, "%") {
		return raw
	}
	v, err := url.PathUnescape(raw)
	if err != nil {
		return raw
	}
	return v
}

// requestPath returns the escaped path so that an id containing "/" (an alert
// "type;source;sourceRef" name may) stays in one segment.
func requestPath(r *http.Request) string {
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return r.URL.Path
}
