package ewstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// graphRequest is one Graph API request being served.
type graphRequest struct {
	s     *GraphServer
	w     http.ResponseWriter
	r     *http.Request
	app   *GraphApp
	mb    *xMailbox
	user  string // the {id} of the URL, as given
	route string
}

// graphRoute names a request by method and path pattern.
func graphRoute(method string, segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s
		if i > 0 && (segs[i-1] == "users" || segs[i-1] == "mailFolders" || segs[i-1] == "messages" || segs[i-1] == "childFolders") {
			out[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(out, "/")
}

func (g *graphRequest) error(status int, code, msg string) {
	graphError(g.w, g.r, status, code, msg)
}

func (g *graphRequest) serve(segs []string) {
	s := g.s
	g.route = graphRoute(g.r.Method, segs)
	s.counts.add(g.route)
	if g.app = s.authenticate(g.w, g.r); g.app == nil {
		return
	}
	switch {
	case segs[0] == "me":
		g.error(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		return
	case segs[0] != "users" || len(segs) < 3:
		g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[0]))
		return
	}
	if f, ok := s.faults.take(g.route); ok {
		if !g.writeInjected(f) {
			return
		}
		real := g.w
		g.w = &discardWriter{h: make(http.Header)}
		defer dropConnection(real)
	}
	g.user = segs[1]
	x := s.Exchange
	x.mu.Lock()
	g.mb = x.mailboxByGraphID(g.user)
	x.mu.Unlock()
	if g.mb == nil {
		g.error(http.StatusNotFound, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", g.user))
		return
	}
	if len(g.app.Mailboxes) > 0 && !slices.ContainsFunc(g.app.Mailboxes, func(a string) bool { return strings.EqualFold(a, g.mb.address) }) {
		g.error(http.StatusForbidden, "ErrorAccessDenied", "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.")
		return
	}
	if s.concurrency > 0 {
		key := g.app.ClientID + "\x00" + g.mb.address
		s.mu.Lock()
		over := s.inFlight[key] >= s.concurrency
		if !over {
			s.inFlight[key]++
		}
		s.mu.Unlock()
		if over {
			g.w.Header().Set("Retry-After", retryAfterValue(s.concurrencyWait))
			g.error(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
			return
		}
		defer func() {
			s.mu.Lock()
			s.inFlight[key]--
			s.mu.Unlock()
		}()
	}
	g.dispatch(segs[2:])
}

// writeInjected answers with the failure f; it reports whether the request
// should still be applied (GraphDropAfterApply).
func (g *graphRequest) writeInjected(f GraphFault) bool {
	switch f.Kind {
	case GraphThrottled:
		g.w.Header().Set("Retry-After", retryAfterValue(f.RetryAfter))
		g.error(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
	case GraphServiceUnavailable:
		if f.RetryAfter > 0 {
			g.w.Header().Set("Retry-After", retryAfterValue(f.RetryAfter))
		}
		g.error(http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable")
	case GraphGatewayTimeout:
		g.error(http.StatusGatewayTimeout, "UnknownError", "")
	case GraphDropConnection:
		dropConnection(g.w)
	case GraphDropAfterApply:
		return true
	}
	return false
}

// retryAfterValue renders a Retry-After: whole seconds, or a decimal when
// d has a fraction of a second.
func retryAfterValue(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// mailboxByGraphID finds a mailbox by SMTP address or Graph user id. The
// caller holds x.mu.
func (x *Exchange) mailboxByGraphID(id string) *xMailbox {
	if mb, ok := x.mailboxes[strings.ToLower(id)]; ok {
		return mb
	}
	for _, mb := range x.mailboxes {
		if strings.EqualFold(mb.graphUserID(), id) {
			return mb
		}
	}
	return nil
}

// graphUserID is the mailbox owner's user id, a GUID.
func (mb *xMailbox) graphUserID() string {
	g := mb.guid
	h := fmt.Sprintf("%x", g[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *graphRequest) dispatch(rest []string) {
	method := g.r.Method
	switch {
	case len(rest) == 1 && rest[0] == "mailFolders" && method == http.MethodGet:
		g.listFolders(nil)
	case len(rest) == 2 && rest[0] == "mailFolders" && method == http.MethodGet:
		g.getFolder(rest[1])
	case len(rest) == 3 && rest[0] == "mailFolders" && rest[2] == "childFolders" && method == http.MethodGet:
		g.withFolder(rest[1], func(f *xFolder) { g.listFolders(f) })
	case len(rest) == 3 && rest[0] == "mailFolders" && rest[2] == "messages" && method == http.MethodGet:
		g.withFolder(rest[1], func(f *xFolder) { g.listMessages(f) })
	case len(rest) == 1 && rest[0] == "messages" && method == http.MethodGet:
		g.listMessages(nil)
	case len(rest) >= 4 && rest[0] == "mailFolders" && rest[2] == "messages":
		g.withFolder(rest[1], func(*xFolder) { g.message(rest[3], rest[4:]) })
	case len(rest) >= 2 && rest[0] == "messages":
		g.message(rest[1], rest[2:])
	default:
		for i, seg := range rest {
			if i > 0 && slices.Contains([]string{"mailFolders", "childFolders", "messages"}, rest[i-1]) {
				continue // an id
			}
			if !slices.Contains([]string{"mailFolders", "childFolders", "messages", "$value", "move"}, seg) {
				g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
				return
			}
		}
		g.error(http.StatusMethodNotAllowed, "ErrorInvalidRequest", "The OData request is not supported.")
	}
}

// ---- folders ----

// folder resolves a folder id or well-known name. The caller holds the
// Exchange lock.
func (g *graphRequest) folder(id string) (*xFolder, int, string, string) {
	if f := g.mb.distinguishedFolder(strings.ToLower(id)); f != nil && (f.distinguished != "root") {
		return f, 0, "", ""
	}
	ewsID := ewsIDFromGraph(id)
	if parseID(ewsID) != idFolder {
		if distinguishedNames[strings.ToLower(id)] {
			return nil, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."
		}
		return nil, http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed."
	}
	f, ok := g.s.Exchange.folders[ewsID]
	if !ok || f.mailbox != g.mb {
		return nil, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."
	}
	return f, 0, "", ""
}

// withFolder resolves id and runs fn, or answers the error.
func (g *graphRequest) withFolder(id string, fn func(*xFolder)) {
	x := g.s.Exchange
	x.mu.Lock()
	f, status, code, msg := g.folder(id)
	x.mu.Unlock()
	if f == nil {
		g.error(status, code, msg)
		return
	}
	fn(f)
}

func (g *graphRequest) contextURL(suffix string) string {
	root := "http://" + g.r.Host
	return root + "/v1.0/$metadata#users('" + url.PathEscape(g.user) + "')/" + suffix
}

func graphFolderJSON(f *xFolder) map[string]any {
	parent := ""
	if f.parent != nil {
		parent = GraphID(f.parent.id)
	}
	return map[string]any{
		"id":               GraphID(f.id),
		"displayName":      f.name,
		"parentFolderId":   parent,
		"childFolderCount": len(f.children),
		"unreadItemCount":  f.unread(),
		"totalItemCount":   len(f.items),
		"isHidden":         false,
	}
}

type folderRecord struct{ f *xFolder }

func (r folderRecord) property(path string) (odataValue, bool) {
	switch path {
	case "displayName":
		return odataValue{kind: 's', s: r.f.name}, true
	case "id":
		return odataValue{kind: 's', s: GraphID(r.f.id)}, true
	case "parentFolderId":
		return odataValue{kind: 's', s: GraphID(r.f.parent.id)}, true
	case "childFolderCount":
		return odataValue{kind: 'n', n: float64(len(r.f.children))}, true
	case "unreadItemCount":
		return odataValue{kind: 'n', n: float64(r.f.unread())}, true
	case "totalItemCount":
		return odataValue{kind: 'n', n: float64(len(r.f.items))}, true
	case "isHidden":
		return odataValue{kind: 'b'}, true
	}
	return odataValue{}, false
}

func (folderRecord) collection(string) ([]string, bool) { return nil, false }

func folderFieldKind(path string) (byte, bool) {
	v, ok := folderRecord{f: &xFolder{parent: &xFolder{}}}.property(path)
	return v.kind, ok
}

func (g *graphRequest) getFolder(id string) {
	x := g.s.Exchange
	x.mu.Lock()
	f, status, code, msg := g.folder(id)
	var body map[string]any
	if f != nil {
		body = graphFolderJSON(f)
	}
	x.mu.Unlock()
	if f == nil {
		g.error(status, code, msg)
		return
	}
	g.writeEntity(body, "microsoft.graph.mailFolder", "mailFolders/$entity")
}

// writeEntity writes one resource of typ with $select applied.
func (g *graphRequest) writeEntity(body map[string]any, typ, ctxSuffix string) {
	sel, ok := g.selectFields(body, typ)
	if !ok {
		return
	}
	sel["@odata.context"] = g.contextURL(ctxSuffix)
	writeJSON(g.w, http.StatusOK, sel)
}

// filter parses the request's $filter over resources of typ, or answers
// 400 and returns false. A request without one gets a nil filter.
func (g *graphRequest) filter(typ string, field func(string) (byte, bool), coll func(string) bool) (*odataFilter, bool) {
	fs := g.r.URL.Query().Get("$filter")
	if fs == "" {
		return nil, true
	}
	f, err := parseODataFilter(fs, typ, field, coll)
	if err != nil {
		oe := err.(*odataError)
		g.error(http.StatusBadRequest, oe.code, oe.msg)
		return nil, false
	}
	return f, true
}

// listFolders lists the mail folders below parent, or at the top of the
// mailbox when parent is nil.
func (g *graphRequest) listFolders(parent *xFolder) {
	filter, ok := g.filter("microsoft.graph.mailFolder", folderFieldKind, func(string) bool { return false })
	if !ok {
		return
	}
	top, skip, ok := g.paging(10)
	if !ok {
		return
	}
	x := g.s.Exchange
	x.mu.Lock()
	if parent == nil {
		parent = g.mb.top
	}
	var rows []map[string]any
	for _, c := range parent.children {
		if c.class != "IPF.Note" || (filter != nil && !filter.eval(folderRecord{c})) {
			continue
		}
		rows = append(rows, graphFolderJSON(c))
	}
	x.mu.Unlock()
	g.writePage(rows, top, skip, "microsoft.graph.mailFolder", "mailFolders")
}

// paging reads $top and $skip.
func (g *graphRequest) paging(defTop int) (top, skip int, ok bool) {
	q := g.r.URL.Query()
	top, skip = defTop, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v))
			return 0, 0, false
		}
		top = min(n, 1000)
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid value '%s' for $skip query option found. The $skip query option requires a non-negative integer value.", v))
			return 0, 0, false
		}
		skip = n
	}
	return top, skip, true
}

// writePage writes one page of rows with $select applied and an
// @odata.nextLink when more rows follow.
func (g *graphRequest) writePage(rows []map[string]any, top, skip int, typ, ctxSuffix string) {
	page := rows[min(skip, len(rows)):]
	more := len(page) > top
	page = page[:min(top, len(page))]
	out := make([]map[string]any, 0, len(page))
	for _, row := range page {
		sel, ok := g.selectFields(row, typ)
		if !ok {
			return
		}
		out = append(out, sel)
	}
	body := map[string]any{"@odata.context": g.contextURL(ctxSuffix), "value": out}
	if strings.EqualFold(g.r.URL.Query().Get("$count"), "true") {
		body["@odata.count"] = len(rows)
	}
	if more {
		q := g.r.URL.Query()
		q.Set("$top", strconv.Itoa(top))
		q.Set("$skip", strconv.Itoa(skip+top))
		body["@odata.nextLink"] = "http://" + g.r.Host + g.r.URL.EscapedPath() + "?" + q.Encode()
	}
	writeJSON(g.w, http.StatusOK, body)
}

// selectFields applies $select to a resource: the listed properties, plus
// id and @odata.etag, which Graph always returns.
func (g *graphRequest) selectFields(row map[string]any, typ string) (map[string]any, bool) {
	sel := g.r.URL.Query().Get("$select")
	if sel == "" {
		return row, true
	}
	out := map[string]any{"id": row["id"]}
	if etag, ok := row["@odata.etag"]; ok {
		out["@odata.etag"] = etag
	}
	for _, name := range strings.Split(sel, ",") {
		name = strings.TrimSpace(name)
		v, ok := row[name]
		if !ok {
			if knownGraphProps[name] {
				continue
			}
			g.error(http.StatusBadRequest, "RequestBroker--ParseUri", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, typ))
			return nil, false
		}
		out[name] = v
	}
	return out, true
}

// knownGraphProps are properties of messages the fake knows but does not
// fill in (bodies, headers, extended properties).
var knownGraphProps = map[string]bool{
	"uniqueBody": true, "internetMessageHeaders": true, "singleValueExtendedProperties": true,
	"multiValueExtendedProperties": true, "attachments": true, "extensions": true, "mentionsPreview": true,
	"unsubscribeData": true, "unsubscribeEnabled": true, "sizeInBytes": true, "wellKnownName": true,
}

// ---- messages ----

var graphFlag = map[string]string{"NotFlagged": "notFlagged", "Flagged": "flagged", "Complete": "complete"}

func recipientJSON(name, address string) map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": cmpOr(name, address), "address": address}}
}

// graphMessageJSON renders a message as Graph returns it.
func (g *graphRequest) graphMessageJSON(it *xItem) map[string]any {
	ck := changeKey(it.version)
	cats := it.categories
	if cats == nil {
		cats = []string{}
	}
	m := map[string]any{
		"@odata.etag":                `W/"` + ck + `"`,
		"id":                         GraphID(it.id),
		"createdDateTime":            xmlTime(it.created),
		"lastModifiedDateTime":       xmlTime(it.modified),
		"changeKey":                  ck,
		"categories":                 slices.Clone(cats),
		"receivedDateTime":           xmlTime(it.received),
		"sentDateTime":               xmlTime(it.sent),
		"hasAttachments":             it.hasAttach,
		"internetMessageId":          it.messageID,
		"subject":                    it.subject,
		"bodyPreview":                "",
		"importance":                 "normal",
		"parentFolderId":             GraphID(it.folder.id),
		"conversationId":             GraphID(it.convID),
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     it.read,
		"isDraft":                    false,
		"webLink":                    "https://outlook.office365.com/owa/?ItemID=" + url.QueryEscape(it.id) + "&exvsurl=1&viewmodel=ReadMessageItem",
		"inferenceClassification":    "focused",
		"body":                       map[string]any{"contentType": "text", "content": ""},
		"toRecipients":               []any{},
		"ccRecipients":               []any{},
		"bccRecipients":              []any{},
		"replyTo":                    []any{},
		"flag":                       map[string]any{"flagStatus": graphFlag[it.flag]},
	}
	if it.from.Address != "" {
		m["from"] = recipientJSON(it.from.Name, it.from.Address)
		m["sender"] = recipientJSON(it.from.Name, it.from.Address)
	}
	return m
}

type messageRecord struct{ it *xItem }

func (r messageRecord) property(path string) (odataValue, bool) {
	it := r.it
	switch path {
	case "isRead":
		return odataValue{kind: 'b', b: it.read}, true
	case "hasAttachments":
		return odataValue{kind: 'b', b: it.hasAttach}, true
	case "isDraft", "isReadReceiptRequested", "isDeliveryReceiptRequested":
		return odataValue{kind: 'b'}, true
	case "receivedDateTime":
		return odataValue{kind: 't', t: it.received}, true
	case "sentDateTime":
		return odataValue{kind: 't', t: it.sent}, true
	case "createdDateTime":
		return odataValue{kind: 't', t: it.created}, true
	case "lastModifiedDateTime":
		return odataValue{kind: 't', t: it.modified}, true
	case "subject":
		return odataValue{kind: 's', s: it.subject}, true
	case "internetMessageId":
		return odataValue{kind: 's', s: it.messageID}, true
	case "conversationId":
		return odataValue{kind: 's', s: GraphID(it.convID)}, true
	case "id":
		return odataValue{kind: 's', s: GraphID(it.id)}, true
	case "parentFolderId":
		return odataValue{kind: 's', s: GraphID(it.folder.id)}, true
	case "importance":
		return odataValue{kind: 's', s: "normal"}, true
	case "inferenceClassification":
		return odataValue{kind: 's', s: "focused"}, true
	case "flag/flagStatus":
		return odataValue{kind: 's', s: graphFlag[it.flag]}, true
	case "from/emailAddress/address", "sender/emailAddress/address":
		return odataValue{kind: 's', s: it.from.Address}, true
	}
	return odataValue{}, false
}

func (r messageRecord) collection(path string) ([]string, bool) {
	if path == "categories" {
		return r.it.categories, true
	}
	return nil, false
}

func messageFieldKind(path string) (byte, bool) {
	v, ok := messageRecord{it: &xItem{folder: &xFolder{}}}.property(path)
	return v.kind, ok
}

// listMessages lists the messages of folder, or of the whole mailbox when
// folder is nil.
func (g *graphRequest) listMessages(folder *xFolder) {
	q := g.r.URL.Query()
	if q.Has("$search") || q.Has("$expand") {
		// Rather than answer as if the option were not there.
		g.error(http.StatusNotImplemented, "NotImplemented", "$search and $expand are not supported by this fake.")
		return
	}
	filter, ok := g.filter("microsoft.graph.message", messageFieldKind, func(p string) bool { return p == "categories" })
	if !ok {
		return
	}
	type orderKey struct {
		prop string
		desc bool
	}
	// Without $orderby, Graph lists the newest messages first.
	order := []orderKey{{"receivedDateTime", true}}
	if ob := q.Get("$orderby"); ob != "" {
		order = nil
		for _, part := range strings.Split(ob, ",") {
			fields := strings.Fields(part)
			if len(fields) == 0 || len(fields) > 2 || (len(fields) == 2 && fields[1] != "asc" && fields[1] != "desc") {
				g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid $orderby clause '%s'.", ob))
				return
			}
			if _, ok := messageFieldKind(fields[0]); !ok {
				g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.message'.", fields[0]))
				return
			}
			order = append(order, orderKey{fields[0], len(fields) == 2 && fields[1] == "desc"})
		}
		// "Properties that appear in $orderby must also appear in $filter,
		// in the same order, before any properties that aren't."
		if filter != nil {
			for i, k := range order {
				if i >= len(filter.props) || filter.props[i] != k.prop {
					g.error(http.StatusBadRequest, "InefficientFilter", "The restriction or sort order is too complex for this operation.")
					return
				}
			}
		}
	}
	top, skip, ok := g.paging(10)
	if !ok {
		return
	}
	x := g.s.Exchange
	x.mu.Lock()
	var items []*xItem
	if folder != nil {
		items = slices.Clone(folder.items)
	} else {
		for _, it := range x.items {
			if it.folder.mailbox == g.mb {
				items = append(items, it)
			}
		}
		slices.SortFunc(items, func(a, b *xItem) int { return strings.Compare(a.id, b.id) })
	}
	items = slices.DeleteFunc(items, func(it *xItem) bool { return filter != nil && !filter.eval(messageRecord{it}) })
	slices.SortStableFunc(items, func(a, b *xItem) int {
		for _, k := range order {
			va, _ := messageRecord{a}.property(k.prop)
			vb, _ := messageRecord{b}.property(k.prop)
			c := compareOData(va, vb)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	rows := make([]map[string]any, len(items))
	for i, it := range items {
		rows[i] = g.graphMessageJSON(it)
	}
	x.mu.Unlock()
	suffix := "messages"
	if folder != nil {
		suffix = "mailFolders('" + GraphID(folder.id) + "')/messages"
	}
	g.writePage(rows, top, skip, "microsoft.graph.message", suffix)
}

// item resolves a message id. The caller holds the Exchange lock.
func (g *graphRequest) item(id string) (*xItem, int, string, string) {
	ewsID := ewsIDFromGraph(id)
	if parseID(ewsID) != idItem {
		return nil, http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed."
	}
	it, ok := g.s.Exchange.items[ewsID]
	if !ok || it.folder.mailbox != g.mb {
		return nil, http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."
	}
	return it, 0, "", ""
}

// message serves /messages/{id} and what lies below it.
func (g *graphRequest) message(id string, rest []string) {
	method := g.r.Method
	switch {
	case len(rest) == 0 && method == http.MethodGet:
		g.getMessage(id)
	case len(rest) == 0 && method == http.MethodPatch:
		g.patchMessage(id)
	case len(rest) == 1 && rest[0] == "$value" && method == http.MethodGet:
		g.getMIME(id)
	case len(rest) == 1 && rest[0] == "move" && method == http.MethodPost:
		g.moveMessage(id)
	case len(rest) == 1 && rest[0] != "$value" && rest[0] != "move":
		g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", rest[0]))
	default:
		g.error(http.StatusMethodNotAllowed, "ErrorInvalidRequest", "The OData request is not supported.")
	}
}

func (g *graphRequest) getMessage(id string) {
	x := g.s.Exchange
	x.mu.Lock()
	it, status, code, msg := g.item(id)
	var body map[string]any
	if it != nil {
		body = g.graphMessageJSON(it)
	}
	x.mu.Unlock()
	if it == nil {
		g.error(status, code, msg)
		return
	}
	g.writeEntity(body, "microsoft.graph.message", "messages/$entity")
}

// getMIME streams the stored message as it is: the raw bytes, not
// base64, with the Content-Type Graph sends.
func (g *graphRequest) getMIME(id string) {
	x := g.s.Exchange
	x.mu.Lock()
	it, status, code, msg := g.item(id)
	var raw []byte
	if it != nil {
		raw = it.raw // immutable: safe to use after unlocking
	}
	x.mu.Unlock()
	if it == nil {
		g.error(status, code, msg)
		return
	}
	g.w.Header().Set("Content-Type", "text/plain")
	g.w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	g.w.WriteHeader(http.StatusOK)
	_, _ = g.w.Write(raw)
}

// mayWrite reports whether the app may write mail (the Mail.ReadWrite
// role), or answers 403 ErrorAccessDenied.
func (g *graphRequest) mayWrite() bool {
	if len(g.app.Roles) == 0 || slices.Contains(g.app.Roles, "Mail.ReadWrite") {
		return true
	}
	g.error(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	return false
}

// readBody decodes a JSON request body into an object.
func (g *graphRequest) readBody() (map[string]json.RawMessage, bool) {
	data, err := io.ReadAll(io.LimitReader(g.r.Body, 4<<20))
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		g.error(http.StatusBadRequest, "BadRequest", "Empty Payload. JSON content expected.")
		return nil, false
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil {
		g.error(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return nil, false
	}
	return body, true
}

// readOnlyProps are message properties a PATCH may name but not change on
// a received message; Graph ignores them.
var readOnlyProps = map[string]bool{
	"id": true, "@odata.etag": true, "@odata.type": true, "changeKey": true, "createdDateTime": true,
	"lastModifiedDateTime": true, "receivedDateTime": true, "sentDateTime": true, "hasAttachments": true,
	"parentFolderId": true, "conversationId": true, "conversationIndex": true, "webLink": true,
	"bodyPreview": true, "isDraft": true,
}

func (g *graphRequest) patchMessage(id string) {
	if !g.mayWrite() {
		return
	}
	body, ok := g.readBody()
	if !ok {
		return
	}
	var changes []func(*xItem)
	for name, raw := range body {
		switch name {
		case "isRead":
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				g.error(http.StatusBadRequest, "BadRequest", "Cannot convert the literal '"+string(raw)+"' to the expected type 'Edm.Boolean'.")
				return
			}
			changes = append(changes, func(it *xItem) { it.read = v })
		case "categories":
			var v []string
			if json.Unmarshal(raw, &v) != nil {
				g.error(http.StatusBadRequest, "BadRequest", "Cannot convert the literal '"+string(raw)+"' to the expected type 'Collection(Edm.String)'.")
				return
			}
			changes = append(changes, func(it *xItem) { it.categories = v })
		case "flag":
			var v struct {
				FlagStatus string `json:"flagStatus"`
			}
			if json.Unmarshal(raw, &v) != nil {
				g.error(http.StatusBadRequest, "BadRequest", "Cannot convert the literal to the expected type 'microsoft.graph.followupFlag'.")
				return
			}
			var status string
			for k, gv := range graphFlag {
				if gv == v.FlagStatus {
					status = k
				}
			}
			if status == "" {
				g.error(http.StatusBadRequest, "BadRequest", fmt.Sprintf("The value '%s' is not valid for the enum type 'microsoft.graph.followupFlagStatus'.", v.FlagStatus))
				return
			}
			changes = append(changes, func(it *xItem) { it.flag = status })
		case "importance", "inferenceClassification":
		default:
			if readOnlyProps[name] {
				continue
			}
			if _, known := messageFieldKind(name); !known {
				g.error(http.StatusBadRequest, "RequestBodyRead", fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type.", name))
				return
			}
		}
	}
	x := g.s.Exchange
	x.mu.Lock()
	it, status, code, msg := g.item(id)
	if it != nil {
		if m := g.r.Header.Get("If-Match"); m != "" && m != "*" && m != `W/"`+changeKey(it.version)+`"` {
			x.mu.Unlock()
			g.error(http.StatusPreconditionFailed, "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
			return
		}
		for _, c := range changes {
			c(it)
		}
		it.touch()
	}
	var out map[string]any
	if it != nil {
		out = g.graphMessageJSON(it)
	}
	x.mu.Unlock()
	if it == nil {
		g.error(status, code, msg)
		return
	}
	out["@odata.context"] = g.contextURL("messages/$entity")
	writeJSON(g.w, http.StatusOK, out)
}

func (g *graphRequest) moveMessage(id string) {
	if !g.mayWrite() {
		return
	}
	body, ok := g.readBody()
	if !ok {
		return
	}
	var dest string
	if raw, ok := body["destinationId"]; !ok || json.Unmarshal(raw, &dest) != nil || dest == "" {
		g.error(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
		return
	}
	x := g.s.Exchange
	x.mu.Lock()
	it, status, code, msg := g.item(id)
	var f *xFolder
	if it != nil {
		f, status, code, msg = g.folder(dest)
	}
	var out map[string]any
	if it != nil && f != nil {
		x.moveItem(it, f)
		out = g.graphMessageJSON(it)
	}
	x.mu.Unlock()
	if out == nil {
		g.error(status, code, msg)
		return
	}
	out["@odata.context"] = g.contextURL("messages/$entity")
	writeJSON(g.w, http.StatusCreated, out)
}
