package ewstest

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serverVersions are the RequestServerVersion values the fake accepts,
// with their rank (later versions rank higher).
var serverVersions = map[string]int{
	"Exchange2007":     0,
	"Exchange2007_SP1": 1,
	"Exchange2010":     2,
	"Exchange2010_SP1": 3,
	"Exchange2010_SP2": 4,
	"Exchange2013":     5,
	"Exchange2013_SP1": 6,
	"Exchange2015":     7,
	"Exchange2016":     8,
	"V2015_10_05":      8,
	"V2016_01_06":      8,
	"V2016_04_13":      8,
	"V2016_07_13":      8,
	"V2016_10_10":      8,
	"V2017_01_07":      8,
	"V2017_04_14":      8,
	"V2017_07_11":      8,
}

// Ranks of versions that gate features.
const (
	rankExchange2010    = 2
	rankExchange2010SP1 = 3
	rankExchange2013    = 5
	rankExchange2013SP1 = 6
)

// ewsRequest is one SOAP request being served.
type ewsRequest struct {
	s    *EWSServer
	user *EWSUser
	rank int
	// actAs is the mailbox address the request acts as: the impersonated
	// one, or the user's own (empty for a service account).
	actAs string
	// actUser is the user whose rights apply (the impersonated one when
	// known).
	actUser *EWSUser
}

// serveSOAP parses the envelope, applies the SOAP headers and runs the
// operation.
func (s *EWSServer) serveSOAP(w http.ResponseWriter, r *http.Request, user *EWSUser, body []byte) {
	env, err := parseXML(body)
	if err != nil {
		se := err.(*xmlSyntaxError)
		writeFault(w, schemaFault(se.line, se.col, se.msg))
		return
	}
	if env.XMLName.Space != nsSOAP || env.XMLName.Local != "Envelope" {
		writeFault(w, schemaFault(1, 1, fmt.Sprintf("The root element '%s' in namespace '%s' is not a SOAP 1.1 Envelope.", env.XMLName.Local, env.XMLName.Space)))
		return
	}
	header := env.child(nsSOAP, "Header")
	bodyNode := env.child(nsSOAP, "Body")
	if bodyNode == nil || len(bodyNode.Nodes) == 0 {
		writeFault(w, &soapFault{code: "ErrorInvalidRequest", text: "The request is invalid."})
		return
	}
	opNode := &bodyNode.Nodes[0]
	op := opNode.XMLName.Local

	q := &ewsRequest{s: s, user: user, rank: serverVersions["Exchange2007_SP1"], actAs: user.Mailbox, actUser: user}
	if f := q.applyHeaders(header); f != nil {
		s.counts.add(op)
		writeFault(w, f)
		return
	}
	if opNode.XMLName.Space != nsMessages {
		s.counts.add(op)
		writeFault(w, schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' is not declared.", op, opNode.XMLName.Space)))
		return
	}
	s.counts.add(op)
	if f, ok := s.faults.take(op); ok {
		if !s.writeInjected(w, op, f) {
			return
		}
		// EWSDropAfterApply: apply, lose the answer, drop the connection.
		q.run(&discardWriter{h: make(http.Header)}, op, opNode)
		dropConnection(w)
		return
	}
	q.run(w, op, opNode)
}

// run dispatches op.
func (q *ewsRequest) run(w http.ResponseWriter, op string, n *xnode) {
	var out bytes.Buffer
	var f *soapFault
	switch op {
	case "GetFolder":
		f = q.getFolder(&out, n)
	case "FindFolder":
		f = q.findFolder(&out, n)
	case "FindItem":
		f = q.findItem(&out, n)
	case "GetItem":
		// GetItem streams its answer: the MimeContent of a large message is
		// encoded as it is written.
		if f = q.getItem(w, n); f != nil {
			writeFault(w, f)
		}
		return
	case "UpdateItem":
		f = q.updateItem(&out, n)
	case "MoveItem":
		f = q.moveItem(&out, n)
	case "MarkAsJunk":
		f = q.markAsJunk(&out, n)
	case "ConvertId":
		f = q.convertID(&out, n)
	default:
		f = &soapFault{code: "ErrorInvalidRequest", text: "The request is invalid."}
	}
	if f != nil {
		writeFault(w, f)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	_, _ = w.Write(out.Bytes())
}

// applyHeaders reads RequestServerVersion and ExchangeImpersonation.
func (q *ewsRequest) applyHeaders(h *xnode) *soapFault {
	if v := h.child(nsTypes, "RequestServerVersion"); v != nil {
		name, _ := v.attr("Version")
		rank, ok := serverVersions[name]
		if !ok {
			return &soapFault{code: "ErrorInvalidServerVersion", text: "The specified server version is invalid."}
		}
		q.rank = rank
	}
	imp := h.child(nsTypes, "ExchangeImpersonation")
	if imp == nil {
		return nil
	}
	sid := imp.child(nsTypes, "ConnectingSID")
	var addr string
	for _, name := range []string{"PrimarySmtpAddress", "SmtpAddress", "PrincipalName", "SID"} {
		if c := sid.child(nsTypes, name); c != nil {
			addr = c.text()
			if name == "SID" {
				return &soapFault{code: "ErrorNonExistentMailbox", text: "The SMTP address has no mailbox associated with it.",
					messageXML: `<t:Value Name="SmtpAddress">` + esc(addr) + `</t:Value>`}
			}
			break
		}
	}
	if addr == "" {
		return &soapFault{code: "ErrorInvalidExchangeImpersonationHeaderData", text: "ExchangeImpersonation SOAP header must be present for this type of OAuth token."}
	}
	x := q.s.Exchange
	x.mu.Lock()
	_, err := x.mailbox(addr)
	x.mu.Unlock()
	if err != nil {
		return &soapFault{code: "ErrorNonExistentMailbox", text: "The SMTP address has no mailbox associated with it.",
			messageXML: `<t:Value Name="SmtpAddress">` + esc(addr) + `</t:Value>`}
	}
	if !q.user.Impersonation {
		return &soapFault{code: "ErrorImpersonateUserDenied", text: "The account does not have permission to impersonate the requested user."}
	}
	q.actAs = addr
	q.s.mu.Lock()
	q.actUser = q.s.userByAddress(addr)
	q.s.mu.Unlock()
	return nil
}

// canAccess reports whether the request may open mailbox mb.
func (q *ewsRequest) canAccess(mb *xMailbox) bool {
	if strings.EqualFold(mb.address, q.actAs) {
		return true
	}
	if q.actUser == nil {
		return false
	}
	for _, a := range q.actUser.FullAccess {
		if strings.EqualFold(a, mb.address) {
			return true
		}
	}
	return false
}

// distinguishedNames are the DistinguishedFolderId values of the schema.
var distinguishedNames = map[string]bool{
	"calendar": true, "contacts": true, "deleteditems": true, "drafts": true, "inbox": true,
	"journal": true, "notes": true, "outbox": true, "sentitems": true, "tasks": true,
	"msgfolderroot": true, "publicfoldersroot": true, "root": true, "junkemail": true,
	"searchfolders": true, "voicemail": true, "recoverableitemsroot": true,
	"recoverableitemsdeletions": true, "recoverableitemsversions": true,
	"recoverableitemspurges": true, "archiveroot": true, "archivemsgfolderroot": true,
	"archivedeleteditems": true, "archiveinbox": true, "archiverecoverableitemsroot": true,
	"syncissues": true, "conflicts": true, "localfailures": true, "serverfailures": true,
	"recipientcache": true, "quickcontacts": true, "conversationhistory": true,
	"adminauditlogs": true, "todosearch": true, "mycontacts": true, "directory": true,
	"imcontactlist": true, "peopleconnect": true, "favorites": true, "archive": true,
}

// folder resolves a t:FolderId or t:DistinguishedFolderId. It returns a
// *soapFault for a schema violation or a *respError. The caller holds the
// Exchange lock.
func (q *ewsRequest) folder(n *xnode) (*xFolder, error) {
	x := q.s.Exchange
	switch n.XMLName.Local {
	case "FolderId":
		id, _ := n.attr("Id")
		if id == "" {
			return nil, &respError{code: "ErrorInvalidIdEmpty", text: "Id is empty."}
		}
		if parseID(id) != idFolder {
			return nil, errIDMalformed()
		}
		f, ok := x.folders[id]
		if !ok {
			return nil, errFolderNotFound()
		}
		if !q.canAccess(f.mailbox) {
			return nil, errAccessDenied()
		}
		return f, nil
	case "DistinguishedFolderId":
		id, _ := n.attr("Id")
		if !distinguishedNames[id] {
			return nil, schemaFault(1, 1, fmt.Sprintf("The 'Id' attribute is invalid - The value '%s' is invalid according to its datatype '%s:DistinguishedFolderIdNameType' - The Enumeration constraint failed.", id, nsTypes))
		}
		addr := q.actAs
		if mbn := n.child(nsTypes, "Mailbox"); mbn != nil {
			addr = mbn.child(nsTypes, "EmailAddress").text()
		}
		if addr == "" {
			return nil, &respError{code: "ErrorMissingEmailAddress", text: "When making a request as an account that does not have a mailbox, you must specify the mailbox primary SMTP address for any distinguished folder Ids."}
		}
		mb, err := x.mailbox(addr)
		if err != nil {
			return nil, &respError{code: "ErrorNonExistentMailbox", text: "The SMTP address has no mailbox associated with it.",
				messageXML: `<t:Value Name="SmtpAddress">` + esc(addr) + `</t:Value>`}
		}
		if !q.canAccess(mb) {
			return nil, errAccessDenied()
		}
		f := mb.distinguishedFolder(id)
		if f == nil {
			return nil, errFolderNotFound()
		}
		return f, nil
	}
	return nil, schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' is not a folder id.", n.XMLName.Local, n.XMLName.Space))
}

// item resolves a t:ItemId. The caller holds the Exchange lock.
func (q *ewsRequest) item(n *xnode) (*xItem, *respError) {
	if n.XMLName.Local != "ItemId" || n.XMLName.Space != nsTypes {
		return nil, errIDMalformed()
	}
	id, _ := n.attr("Id")
	if id == "" {
		return nil, &respError{code: "ErrorInvalidIdEmpty", text: "Id is empty."}
	}
	if parseID(id) != idItem {
		return nil, errIDMalformed()
	}
	it, ok := q.s.Exchange.items[id]
	if !ok {
		return nil, errItemNotFound()
	}
	if !q.canAccess(it.folder.mailbox) {
		return nil, errAccessDenied()
	}
	return it, nil
}

// splitErr separates the two kinds of error folder returns.
func splitErr(err error) (*soapFault, *respError) {
	switch e := err.(type) {
	case nil:
		return nil, nil
	case *soapFault:
		return e, nil
	case *respError:
		return nil, e
	}
	return &soapFault{code: "ErrorInternalServerError", text: err.Error()}, nil
}

// ---- folders ----

// folderShape is the FolderShape of a request.
type folderShape struct{ props map[string]bool }

var folderDefault = []string{"folder:FolderId", "folder:DisplayName", "folder:TotalCount", "folder:ChildFolderCount", "folder:UnreadCount"}

var folderAll = []string{"folder:FolderId", "folder:ParentFolderId", "folder:FolderClass", "folder:DisplayName",
	"folder:TotalCount", "folder:ChildFolderCount", "folder:UnreadCount"}

func parseFolderShape(n *xnode) (folderShape, *soapFault) {
	sh := folderShape{props: map[string]bool{"folder:FolderId": true}}
	if n == nil {
		return sh, schemaFault(1, 1, "The element 'FolderShape' is missing.")
	}
	if f := sequence(n, map[string]bool{"t:BaseShape": true}, "t:BaseShape", "t:AdditionalProperties"); f != nil {
		return sh, f
	}
	switch base := n.child(nsTypes, "BaseShape").text(); base {
	case "IdOnly":
	case "Default":
		for _, p := range folderDefault {
			sh.props[p] = true
		}
	case "AllProperties":
		for _, p := range folderAll {
			sh.props[p] = true
		}
	default:
		return sh, schemaFault(1, 1, fmt.Sprintf("The 'BaseShape' element is invalid - The value '%s' is invalid according to its datatype '%s:DefaultShapeNamesType' - The Enumeration constraint failed.", base, nsTypes))
	}
	if ap := n.child(nsTypes, "AdditionalProperties"); ap != nil {
		for _, c := range ap.Nodes {
			if c.XMLName.Local != "FieldURI" {
				continue
			}
			uri, _ := c.attr("FieldURI")
			if !strings.HasPrefix(uri, "folder:") {
				return sh, schemaFault(1, 1, fmt.Sprintf("The 'FieldURI' attribute is invalid - The value '%s' is invalid according to its datatype '%s:UnindexedFieldURIType' - The Enumeration constraint failed.", uri, nsTypes))
			}
			sh.props[uri] = true
		}
	}
	return sh, nil
}

// writeFolder writes f with the properties of sh, in schema order.
func writeFolder(w io.Writer, f *xFolder, sh folderShape) {
	el := f.elementName()
	fmt.Fprintf(w, "<t:%s>", el)
	if sh.props["folder:FolderId"] {
		fmt.Fprintf(w, `<t:FolderId Id="%s" ChangeKey="%s"/>`, f.id, changeKey(f.version))
	}
	if sh.props["folder:ParentFolderId"] && f.parent != nil {
		fmt.Fprintf(w, `<t:ParentFolderId Id="%s" ChangeKey="%s"/>`, f.parent.id, changeKey(f.parent.version))
	}
	if sh.props["folder:FolderClass"] && f.class != "" {
		fmt.Fprintf(w, `<t:FolderClass>%s</t:FolderClass>`, esc(f.class))
	}
	if sh.props["folder:DisplayName"] {
		fmt.Fprintf(w, `<t:DisplayName>%s</t:DisplayName>`, esc(f.name))
	}
	if sh.props["folder:TotalCount"] {
		fmt.Fprintf(w, `<t:TotalCount>%d</t:TotalCount>`, len(f.items))
	}
	if sh.props["folder:ChildFolderCount"] {
		fmt.Fprintf(w, `<t:ChildFolderCount>%d</t:ChildFolderCount>`, len(f.children))
	}
	if sh.props["folder:UnreadCount"] && el == "Folder" {
		fmt.Fprintf(w, `<t:UnreadCount>%d</t:UnreadCount>`, f.unread())
	}
	fmt.Fprintf(w, "</t:%s>", el)
}

func (q *ewsRequest) getFolder(w io.Writer, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:FolderShape": true, "m:FolderIds": true}, "m:FolderShape", "m:FolderIds"); f != nil {
		return f
	}
	sh, f := parseFolderShape(n.child(nsMessages, "FolderShape"))
	if f != nil {
		return f
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	var body bytes.Buffer
	for _, idn := range n.child(nsMessages, "FolderIds").Nodes {
		folder, err := q.folder(&idn)
		sf, re := splitErr(err)
		if sf != nil {
			return sf
		}
		if re != nil {
			writeRespError(&body, "GetFolder", re, "<m:Folders />")
			continue
		}
		body.WriteString(`<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Folders>`)
		writeFolder(&body, folder, sh)
		body.WriteString(`</m:Folders></m:GetFolderResponseMessage>`)
	}
	writeResponse(w, "GetFolder", body.Bytes())
	return nil
}

// folderField returns the getter of a folder property used in
// restrictions.
func folderField(uri string) (func(*xFolder) fieldValue, byte, bool) {
	switch uri {
	case "folder:DisplayName":
		return func(f *xFolder) fieldValue { return strValue(f.name) }, 's', true
	case "folder:FolderClass":
		return func(f *xFolder) fieldValue { return strValue(f.class) }, 's', true
	case "folder:TotalCount":
		return func(f *xFolder) fieldValue { return intValue(int64(len(f.items))) }, 'i', true
	case "folder:ChildFolderCount":
		return func(f *xFolder) fieldValue { return intValue(int64(len(f.children))) }, 'i', true
	case "folder:UnreadCount":
		return func(f *xFolder) fieldValue { return intValue(int64(f.unread())) }, 'i', true
	}
	return nil, 0, false
}

// pageView is the IndexedPage*View or FractionalPage*View of a Find
// request.
type pageView struct {
	max       int
	offset    int
	fromEnd   bool
	indexed   bool
	fraction  bool
	num, den  int
	requested bool
}

// parsePageView reads the view of a Find request for kind ("Folder" or
// "Item"). A request without one gets the first findCountLimit results.
func parsePageView(find *xnode, kind string) (pageView, *soapFault) {
	v := pageView{max: -1}
	n := find.child(nsMessages, "IndexedPage"+kind+"View")
	if n == nil {
		n = find.child(nsMessages, "FractionalPage"+kind+"View")
	}
	if n == nil {
		return v, nil
	}
	v.requested = true
	if strings.HasPrefix(n.XMLName.Local, "Fractional") {
		v.fraction = true
		num, err1 := strconv.Atoi(attrOr(n, "Numerator", ""))
		den, err2 := strconv.Atoi(attrOr(n, "Denominator", ""))
		if err1 != nil || err2 != nil || den <= 0 || num < 0 {
			return v, schemaFault(1, 1, "The Numerator and Denominator attributes of a FractionalPage view must be integers, with a positive Denominator.")
		}
		v.num, v.den = num, den
	} else {
		v.indexed = true
		off, err := strconv.Atoi(attrOr(n, "Offset", ""))
		if err != nil || off < 0 {
			return v, schemaFault(1, 1, fmt.Sprintf("The 'Offset' attribute is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:int'.", attrOr(n, "Offset", "")))
		}
		v.offset = off
		switch bp := attrOr(n, "BasePoint", ""); bp {
		case "Beginning":
		case "End":
			v.fromEnd = true
		default:
			return v, schemaFault(1, 1, fmt.Sprintf("The 'BasePoint' attribute is invalid - The value '%s' is invalid according to its datatype '%s:IndexBasePointType' - The Enumeration constraint failed.", bp, nsTypes))
		}
	}
	if m, ok := n.attr("MaxEntriesReturned"); ok {
		limit, err := strconv.Atoi(m)
		if err != nil || limit < 1 {
			return v, schemaFault(1, 1, fmt.Sprintf("The 'MaxEntriesReturned' attribute is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:int'.", m))
		}
		v.max = limit
	}
	return v, nil
}

func attrOr(n *xnode, name, def string) string {
	if v, ok := n.attr(name); ok {
		return v
	}
	return def
}

// findCountLimit is EWSFindCountLimit: the most items one Find answer
// holds.
const findCountLimit = 1000

// window applies the view to total results: it returns the slice bounds,
// the next IndexedPagingOffset and whether the last item is included.
func (v pageView) window(total int) (start, end, next int, last bool) {
	limit := v.max
	if limit < 0 || limit > findCountLimit {
		limit = findCountLimit
	}
	switch {
	case v.fraction:
		start = total * v.num / v.den
		end = min(total, start+limit)
		return start, end, end, end >= total
	case v.fromEnd:
		end = max0(total - v.offset)
		start = max0(end - limit)
		return start, end, v.offset + (end - start), start == 0
	}
	start = min(v.offset, total)
	end = min(total, start+limit)
	return start, end, end, end >= total
}

// writeRootFolder applies the view to total results and writes the start
// of the answer's m:RootFolder, with its paging attributes, and of its list
// element (t:Folders or t:Items). It returns the bounds of the results to
// write.
func (v pageView) writeRootFolder(w io.Writer, total int, list string) (start, end int) {
	start, end, next, last := v.window(total)
	if v.requested {
		fmt.Fprintf(w, `<m:RootFolder IndexedPagingOffset="%d" TotalItemsInView="%d" IncludesLastItemInRange="%t"><t:%s>`, next, total, last, list)
	} else {
		fmt.Fprintf(w, `<m:RootFolder TotalItemsInView="%d" IncludesLastItemInRange="%t"><t:%s>`, total, last, list)
	}
	return start, end
}

func max0(n int) int { return max(n, 0) }

func (q *ewsRequest) findFolder(w io.Writer, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:FolderShape": true, "m:ParentFolderIds": true},
		"m:FolderShape", "m:IndexedPageFolderView|m:FractionalPageFolderView", "m:Restriction", "m:ParentFolderIds"); f != nil {
		return f
	}
	traversal, _ := n.attr("Traversal")
	switch traversal {
	case "Shallow", "Deep", "SoftDeleted":
	default:
		return schemaFault(1, 1, fmt.Sprintf("The 'Traversal' attribute is invalid - The value '%s' is invalid according to its datatype '%s:FolderQueryTraversalType' - The Enumeration constraint failed.", traversal, nsTypes))
	}
	sh, f := parseFolderShape(n.child(nsMessages, "FolderShape"))
	if f != nil {
		return f
	}
	view, f := parsePageView(n, "Folder")
	if f != nil {
		return f
	}
	match, err := parseRestriction(n, folderField)
	if sf, re := splitErr(err); sf != nil {
		return sf
	} else if re != nil {
		writeErrorResponse(w, "FindFolder", re)
		return nil
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	var body bytes.Buffer
	for _, idn := range n.child(nsMessages, "ParentFolderIds").Nodes {
		parent, err := q.folder(&idn)
		sf, re := splitErr(err)
		if sf != nil {
			return sf
		}
		if re != nil {
			writeRespError(&body, "FindFolder", re, "")
			continue
		}
		var found []*xFolder
		var walk func(f *xFolder)
		walk = func(f *xFolder) {
			for _, c := range f.children {
				if match(c) {
					found = append(found, c)
				}
				if traversal == "Deep" {
					walk(c)
				}
			}
		}
		if traversal != "SoftDeleted" {
			walk(parent)
		}
		body.WriteString(`<m:FindFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`)
		start, end := view.writeRootFolder(&body, len(found), "Folders")
		for _, c := range found[start:end] {
			writeFolder(&body, c, sh)
		}
		body.WriteString(`</t:Folders></m:RootFolder></m:FindFolderResponseMessage>`)
	}
	writeResponse(w, "FindFolder", body.Bytes())
	return nil
}

// ---- items ----

// itemProp is one property of a message, in the order the schema puts it
// (ItemType, then MessageType).
type itemProp struct {
	uri   string
	rank  int // lowest RequestServerVersion rank that knows it
	write func(w io.Writer, it *xItem)
}

var itemProps = []itemProp{
	{"item:ItemId", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:ItemId Id="%s" ChangeKey="%s"/>`, it.id, changeKey(it.version))
	}},
	{"item:ParentFolderId", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:ParentFolderId Id="%s" ChangeKey="%s"/>`, it.folder.id, changeKey(it.folder.version))
	}},
	{"item:ItemClass", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:ItemClass>IPM.Note</t:ItemClass>`) }},
	{"item:Subject", 0, func(w io.Writer, it *xItem) { fmt.Fprintf(w, `<t:Subject>%s</t:Subject>`, esc(it.subject)) }},
	{"item:Sensitivity", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:Sensitivity>Normal</t:Sensitivity>`) }},
	{"item:DateTimeReceived", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:DateTimeReceived>%s</t:DateTimeReceived>`, xmlTime(it.received))
	}},
	{"item:Size", 0, func(w io.Writer, it *xItem) { fmt.Fprintf(w, `<t:Size>%d</t:Size>`, len(it.raw)) }},
	{"item:Categories", 0, func(w io.Writer, it *xItem) {
		if len(it.categories) == 0 {
			return
		}
		io.WriteString(w, `<t:Categories>`)
		for _, c := range it.categories {
			fmt.Fprintf(w, `<t:String>%s</t:String>`, esc(c))
		}
		io.WriteString(w, `</t:Categories>`)
	}},
	{"item:Importance", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:Importance>Normal</t:Importance>`) }},
	{"item:IsSubmitted", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:IsSubmitted>false</t:IsSubmitted>`) }},
	{"item:IsDraft", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:IsDraft>false</t:IsDraft>`) }},
	{"item:IsFromMe", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:IsFromMe>false</t:IsFromMe>`) }},
	{"item:IsResend", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:IsResend>false</t:IsResend>`) }},
	{"item:IsUnmodified", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:IsUnmodified>%t</t:IsUnmodified>`, it.version == 1)
	}},
	{"item:DateTimeSent", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:DateTimeSent>%s</t:DateTimeSent>`, xmlTime(it.sent))
	}},
	{"item:DateTimeCreated", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:DateTimeCreated>%s</t:DateTimeCreated>`, xmlTime(it.created))
	}},
	{"item:DisplayCc", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:DisplayCc/>`) }},
	{"item:DisplayTo", 0, func(w io.Writer, it *xItem) { fmt.Fprintf(w, `<t:DisplayTo>%s</t:DisplayTo>`, esc(it.to)) }},
	{"item:HasAttachments", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:HasAttachments>%t</t:HasAttachments>`, it.hasAttach)
	}},
	{"item:Culture", 0, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:Culture>en-US</t:Culture>`) }},
	{"item:LastModifiedTime", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:LastModifiedTime>%s</t:LastModifiedTime>`, xmlTime(it.modified))
	}},
	{"item:IsAssociated", rankExchange2010, func(w io.Writer, it *xItem) { io.WriteString(w, `<t:IsAssociated>false</t:IsAssociated>`) }},
	{"item:ConversationId", rankExchange2010, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:ConversationId Id="%s"/>`, it.convID)
	}},
	{"item:Flag", rankExchange2013, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:Flag><t:FlagStatus>%s</t:FlagStatus></t:Flag>`, esc(it.flag))
	}},
	{"message:Sender", 0, func(w io.Writer, it *xItem) { writeMailbox(w, "Sender", it.from) }},
	{"message:IsReadReceiptRequested", 0, func(w io.Writer, it *xItem) {
		io.WriteString(w, `<t:IsReadReceiptRequested>false</t:IsReadReceiptRequested>`)
	}},
	{"message:IsDeliveryReceiptRequested", 0, func(w io.Writer, it *xItem) {
		io.WriteString(w, `<t:IsDeliveryReceiptRequested>false</t:IsDeliveryReceiptRequested>`)
	}},
	{"message:ConversationTopic", 0, func(w io.Writer, it *xItem) {
		fmt.Fprintf(w, `<t:ConversationTopic>%s</t:ConversationTopic>`, esc(it.topic))
	}},
	{"message:From", 0, func(w io.Writer, it *xItem) { writeMailbox(w, "From", it.from) }},
	{"message:InternetMessageId", 0, func(w io.Writer, it *xItem) {
		if it.messageID != "" {
			fmt.Fprintf(w, `<t:InternetMessageId>%s</t:InternetMessageId>`, esc(it.messageID))
		}
	}},
	{"message:IsRead", 0, func(w io.Writer, it *xItem) { fmt.Fprintf(w, `<t:IsRead>%t</t:IsRead>`, it.read) }},
}

func writeMailbox(w io.Writer, el string, a mail.Address) {
	if a.Address == "" {
		return
	}
	fmt.Fprintf(w, `<t:%s><t:Mailbox><t:Name>%s</t:Name><t:EmailAddress>%s</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>OneOff</t:MailboxType></t:Mailbox></t:%s>`,
		el, esc(cmp.Or(a.Name, a.Address)), esc(a.Address), el)
}

// knownItemURIs are FieldURI values the schema defines that the fake
// accepts without returning them (bodies, recipients, attachments).
var knownItemURIs = map[string]bool{
	"item:MimeContent": true, "item:Body": true, "item:Attachments": true, "item:TextBody": true,
	"item:UniqueBody": true, "item:InternetMessageHeaders": true, "item:ReminderIsSet": true,
	"item:ReminderDueBy": true, "item:ReminderMinutesBeforeStart": true, "item:EffectiveRights": true,
	"item:LastModifiedName": true, "item:InReplyTo": true, "item:WebClientReadFormQueryString": true,
	"item:WebClientEditFormQueryString": true, "item:StoreEntryId": true, "item:NormalizedBody": true,
	"item:Preview": true, "item:InstanceKey": true, "item:EntityExtractionResult": true,
	"item:ResponseObjects": true, "item:IconIndex": true,
	"message:ToRecipients": true, "message:CcRecipients": true, "message:BccRecipients": true,
	"message:ConversationIndex": true, "message:References": true, "message:ReplyTo": true,
	"message:ReceivedBy": true, "message:ReceivedRepresenting": true, "message:IsResponseRequested": true,
}

// fieldURIPrefixes are the property sets of UnindexedFieldURIType. The
// fake accepts any property of these sets in a shape, and returns those it
// models.
var fieldURIPrefixes = []string{"item:", "message:", "meeting:", "meetingRequest:", "calendar:", "task:",
	"contacts:", "distributionlist:", "postitem:", "conversation:", "persona:"}

func validItemURI(uri string) bool {
	for _, p := range fieldURIPrefixes {
		if strings.HasPrefix(uri, p) && len(uri) > len(p) {
			return true
		}
	}
	return false
}

// readOnlyItemURIs are message properties UpdateItem refuses to set.
var readOnlyItemURIs = map[string]bool{
	"item:ItemId": true, "item:ParentFolderId": true, "item:DateTimeReceived": true, "item:Size": true,
	"item:DateTimeSent": true, "item:DateTimeCreated": true, "item:LastModifiedTime": true,
	"item:LastModifiedName": true, "item:HasAttachments": true, "item:ConversationId": true,
	"item:IsSubmitted": true, "item:IsDraft": true, "item:IsFromMe": true, "item:IsResend": true,
	"item:IsUnmodified": true, "item:DisplayCc": true, "item:DisplayTo": true, "item:EffectiveRights": true,
	"item:MimeContent": true, "item:Attachments": true, "item:IsAssociated": true, "item:UniqueBody": true,
	"message:ConversationIndex": true, "message:ConversationTopic": true, "message:ReceivedBy": true,
	"message:ReceivedRepresenting": true,
}

var itemDefault = []string{"item:ItemId", "item:ParentFolderId", "item:ItemClass", "item:Subject", "item:Sensitivity",
	"item:DateTimeReceived", "item:Size", "item:Importance", "item:IsSubmitted", "item:IsDraft", "item:IsFromMe",
	"item:IsResend", "item:IsUnmodified", "item:DateTimeSent", "item:DateTimeCreated", "item:DisplayCc",
	"item:DisplayTo", "item:HasAttachments", "item:Culture", "item:LastModifiedTime", "item:ConversationId",
	"message:Sender", "message:IsReadReceiptRequested", "message:IsDeliveryReceiptRequested",
	"message:ConversationTopic", "message:From", "message:InternetMessageId", "message:IsRead"}

// itemShape is the ItemShape of a request.
type itemShape struct {
	props map[string]bool
	mime  bool
}

func (q *ewsRequest) parseItemShape(n *xnode) (itemShape, *soapFault) {
	sh := itemShape{props: map[string]bool{"item:ItemId": true}}
	if n == nil {
		return sh, schemaFault(1, 1, "The element 'ItemShape' is missing.")
	}
	if f := sequence(n, map[string]bool{"t:BaseShape": true}, "t:BaseShape", "t:IncludeMimeContent", "t:BodyType",
		"t:UniqueBodyType", "t:NormalizedBodyType", "t:FilterHtmlContent", "t:ConvertHtmlCodePageToUTF8",
		"t:InlineImageUrlTemplate", "t:BlockExternalImages", "t:AddBlankTargetToLinks", "t:MaximumBodySize",
		"t:AdditionalProperties"); f != nil {
		return sh, f
	}
	switch base := n.child(nsTypes, "BaseShape").text(); base {
	case "IdOnly":
	case "Default":
		for _, p := range itemDefault {
			sh.props[p] = true
		}
	case "AllProperties":
		for _, p := range itemProps {
			sh.props[p.uri] = true
		}
	default:
		return sh, schemaFault(1, 1, fmt.Sprintf("The 'BaseShape' element is invalid - The value '%s' is invalid according to its datatype '%s:DefaultShapeNamesType' - The Enumeration constraint failed.", base, nsTypes))
	}
	if m := n.child(nsTypes, "IncludeMimeContent"); m != nil {
		v, ok := parseXMLBool(m.text())
		if !ok {
			return sh, schemaFault(1, 1, fmt.Sprintf("The 'IncludeMimeContent' element is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'.", m.text()))
		}
		sh.mime = v
	}
	if ap := n.child(nsTypes, "AdditionalProperties"); ap != nil {
		for _, c := range ap.Nodes {
			if c.XMLName.Local != "FieldURI" {
				continue // indexed and extended properties are accepted and not returned
			}
			uri, _ := c.attr("FieldURI")
			if uri == "item:MimeContent" {
				sh.mime = true
				continue
			}
			known := knownItemURIs[uri] || validItemURI(uri)
			for _, p := range itemProps {
				if p.uri == uri {
					known = q.rank >= p.rank
				}
			}
			if !known {
				return sh, schemaFault(1, 1, fmt.Sprintf("The 'FieldURI' attribute is invalid - The value '%s' is invalid according to its datatype '%s:UnindexedFieldURIType' - The Enumeration constraint failed.", uri, nsTypes))
			}
			sh.props[uri] = true
		}
	}
	return sh, nil
}

// writeItem writes it as a t:Message with the properties of sh, in schema
// order. The MimeContent, when asked for, is written by the caller.
func (q *ewsRequest) writeItemProps(w io.Writer, it *xItem, sh itemShape) {
	for _, p := range itemProps {
		if sh.props[p.uri] && q.rank >= p.rank {
			p.write(w, it)
		}
	}
}

// fieldValue is the value of a property, for restrictions and sorting.
type fieldValue struct {
	kind  byte // 's' string, 'S' string list, 'b' bool, 't' time, 'i' integer
	s     string
	list  []string
	b     bool
	t     time.Time
	i     int64
	unset bool
}

func strValue(s string) fieldValue     { return fieldValue{kind: 's', s: s, unset: s == ""} }
func intValue(i int64) fieldValue      { return fieldValue{kind: 'i', i: i} }
func boolValue(b bool) fieldValue      { return fieldValue{kind: 'b', b: b} }
func timeValue(t time.Time) fieldValue { return fieldValue{kind: 't', t: t} }
func listValue(l []string) fieldValue  { return fieldValue{kind: 'S', list: l, unset: len(l) == 0} }
func (v fieldValue) strings() []string {
	if v.kind == 'S' {
		return v.list
	}
	return []string{v.s}
}

// itemField returns the getter of a message property used in
// restrictions and sort orders.
func itemField(uri string) (func(*xItem) fieldValue, byte, bool) {
	switch uri {
	case "message:IsRead":
		return func(it *xItem) fieldValue { return boolValue(it.read) }, 'b', true
	case "item:Categories":
		return func(it *xItem) fieldValue { return listValue(it.categories) }, 'S', true
	case "item:DateTimeReceived":
		return func(it *xItem) fieldValue { return timeValue(it.received) }, 't', true
	case "item:DateTimeSent":
		return func(it *xItem) fieldValue { return timeValue(it.sent) }, 't', true
	case "item:DateTimeCreated":
		return func(it *xItem) fieldValue { return timeValue(it.created) }, 't', true
	case "item:LastModifiedTime":
		return func(it *xItem) fieldValue { return timeValue(it.modified) }, 't', true
	case "item:Subject":
		return func(it *xItem) fieldValue { return strValue(it.subject) }, 's', true
	case "message:ConversationTopic":
		return func(it *xItem) fieldValue { return strValue(it.topic) }, 's', true
	case "message:InternetMessageId":
		return func(it *xItem) fieldValue { return strValue(it.messageID) }, 's', true
	case "item:Size":
		return func(it *xItem) fieldValue { return intValue(int64(len(it.raw))) }, 'i', true
	case "item:HasAttachments":
		return func(it *xItem) fieldValue { return boolValue(it.hasAttach) }, 'b', true
	case "item:ItemClass":
		return func(*xItem) fieldValue { return strValue("IPM.Note") }, 's', true
	}
	return nil, 0, false
}

// parseConstant converts a restriction constant to the kind of v.
func parseConstant(kind byte, s string) (fieldValue, bool) {
	switch kind {
	case 'b':
		b, ok := parseXMLBool(s)
		return boolValue(b), ok
	case 't':
		t, ok := parseXMLTime(s)
		return timeValue(t), ok
	case 'i':
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return intValue(i), err == nil
	}
	return strValue(s), true
}

// compare orders two values of the same kind; strings compare without
// regard to case, as the Exchange store does.
func compareValues(a, b fieldValue) int {
	switch a.kind {
	case 'b':
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case 't':
		return a.t.Compare(b.t)
	case 'i':
		return cmp.Compare(a.i, b.i)
	}
	return cmp.Compare(strings.ToLower(a.s), strings.ToLower(b.s))
}

func errUnsupportedPath(uri string) *respError {
	return &respError{code: "ErrorUnsupportedPathForQuery", text: "The property path is not supported for this query.",
		messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`}
}

// parseRestriction compiles the m:Restriction of a Find request into a
// predicate over T; without one, everything matches. The error is a
// *soapFault or a *respError, as compileRestriction's.
func parseRestriction[T any](find *xnode, field func(string) (func(T) fieldValue, byte, bool)) (func(T) bool, error) {
	r := find.child(nsMessages, "Restriction")
	if r == nil {
		return func(T) bool { return true }, nil
	}
	if len(r.Nodes) != 1 {
		return nil, schemaFault(1, 1, "The element 'Restriction' must hold exactly one search expression.")
	}
	return compileRestriction(&r.Nodes[0], field)
}

// compileRestriction turns a search expression into a predicate over T,
// with field giving the getter of each FieldURI.
func compileRestriction[T any](n *xnode, field func(string) (func(T) fieldValue, byte, bool)) (func(T) bool, error) {
	if n.XMLName.Space != nsTypes {
		return nil, schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' is not a search expression.", n.XMLName.Local, n.XMLName.Space))
	}
	var kind byte
	getField := func() (func(T) fieldValue, string, error) {
		fn := n.child(nsTypes, "FieldURI")
		if fn == nil {
			return nil, "", &respError{code: "ErrorUnsupportedPathForQuery", text: "The property path is not supported for this query."}
		}
		uri, _ := fn.attr("FieldURI")
		get, k, ok := field(uri)
		if !ok {
			return nil, uri, errUnsupportedPath(uri)
		}
		kind = k
		return get, uri, nil
	}
	switch op := n.XMLName.Local; op {
	case "And", "Or":
		var subs []func(T) bool
		for i := range n.Nodes {
			s, err := compileRestriction(&n.Nodes[i], field)
			if err != nil {
				return nil, err
			}
			subs = append(subs, s)
		}
		if len(subs) == 0 {
			return nil, schemaFault(1, 1, fmt.Sprintf("The element '%s' has incomplete content.", op))
		}
		return func(v T) bool {
			for _, s := range subs {
				if s(v) != (op == "And") {
					return op != "And"
				}
			}
			return op == "And"
		}, nil
	case "Not":
		if len(n.Nodes) != 1 {
			return nil, schemaFault(1, 1, "The element 'Not' must hold exactly one search expression.")
		}
		s, err := compileRestriction(&n.Nodes[0], field)
		if err != nil {
			return nil, err
		}
		return func(v T) bool { return !s(v) }, nil
	case "Exists":
		get, _, err := getField()
		if err != nil {
			return nil, err
		}
		return func(v T) bool { return !get(v).unset }, nil
	case "IsEqualTo", "IsNotEqualTo", "IsGreaterThan", "IsGreaterThanOrEqualTo", "IsLessThan", "IsLessThanOrEqualTo":
		get, uri, err := getField()
		if err != nil {
			return nil, err
		}
		c := n.child(nsTypes, "FieldURIOrConstant").child(nsTypes, "Constant")
		if c == nil {
			return nil, errUnsupportedPath(uri)
		}
		raw, _ := c.attr("Value")
		want, ok := parseConstant(kind, raw)
		if !ok {
			return nil, &respError{code: "ErrorInvalidValueForProperty", text: "An incorrect value was passed for the property.",
				messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`}
		}
		test := func(c int) bool {
			switch op {
			case "IsEqualTo":
				return c == 0
			case "IsNotEqualTo":
				return c != 0
			case "IsGreaterThan":
				return c > 0
			case "IsGreaterThanOrEqualTo":
				return c >= 0
			case "IsLessThan":
				return c < 0
			}
			return c <= 0
		}
		return func(v T) bool {
			got := get(v)
			if got.kind == 'S' {
				// A multi-valued property matches when one of its values
				// does.
				for _, s := range got.list {
					if test(compareValues(strValue(s), want)) {
						return true
					}
				}
				return false
			}
			return test(compareValues(got, want))
		}, nil
	case "Contains":
		get, uri, err := getField()
		if err != nil {
			return nil, err
		}
		if kind != 's' && kind != 'S' {
			return nil, errUnsupportedPath(uri)
		}
		c := n.child(nsTypes, "Constant")
		if c == nil {
			return nil, schemaFault(1, 1, "The element 'Contains' has incomplete content. List of possible elements expected: 'Constant'.")
		}
		want, _ := c.attr("Value")
		mode := attrOr(n, "ContainmentMode", "Substring")
		comparison := attrOr(n, "ContainmentComparison", "Exact")
		fold := strings.Contains(comparison, "IgnoreCase") || strings.HasPrefix(comparison, "Loose")
		if fold {
			want = strings.ToLower(want)
		}
		matches := func(s string) bool {
			if fold {
				s = strings.ToLower(s)
			}
			switch mode {
			case "FullString":
				return s == want
			case "Prefixed":
				return strings.HasPrefix(s, want)
			case "PrefixOnWords":
				for _, word := range strings.Fields(s) {
					if strings.HasPrefix(word, want) {
						return true
					}
				}
				return false
			}
			return strings.Contains(s, want)
		}
		switch mode {
		case "FullString", "Prefixed", "Substring", "PrefixOnWords", "ExactPhrase":
		default:
			return nil, schemaFault(1, 1, fmt.Sprintf("The 'ContainmentMode' attribute is invalid - The value '%s' is invalid according to its datatype '%s:ContainmentModeType' - The Enumeration constraint failed.", mode, nsTypes))
		}
		return func(v T) bool {
			for _, s := range get(v).strings() {
				if matches(s) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' is not a search expression.", n.XMLName.Local, n.XMLName.Space))
}

func (q *ewsRequest) findItem(w io.Writer, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:ItemShape": true, "m:ParentFolderIds": true},
		"m:ItemShape", "m:IndexedPageItemView|m:FractionalPageItemView|m:CalendarView|m:ContactsView",
		"m:GroupBy|m:DistinguishedGroupBy", "m:Restriction", "m:SortOrder", "m:ParentFolderIds", "m:QueryString"); f != nil {
		return f
	}
	traversal, _ := n.attr("Traversal")
	switch traversal {
	case "Shallow", "SoftDeleted", "Associated":
	default:
		return schemaFault(1, 1, fmt.Sprintf("The 'Traversal' attribute is invalid - The value '%s' is invalid according to its datatype '%s:ItemQueryTraversalType' - The Enumeration constraint failed.", traversal, nsTypes))
	}
	sh, f := q.parseItemShape(n.child(nsMessages, "ItemShape"))
	if f != nil {
		return f
	}
	sh.mime = false // FindItem never returns MimeContent
	view, f := parsePageView(n, "Item")
	if f != nil {
		return f
	}
	match, err := parseRestriction(n, itemField)
	if sf, re := splitErr(err); sf != nil {
		return sf
	} else if re != nil {
		writeErrorResponse(w, "FindItem", re)
		return nil
	}
	type sortKey struct {
		get  func(*xItem) fieldValue
		desc bool
	}
	// Without a sort order, Exchange returns the newest messages first.
	keys := []sortKey{{get: func(it *xItem) fieldValue { return timeValue(it.received) }, desc: true}}
	if so := n.child(nsMessages, "SortOrder"); so != nil {
		keys = nil
		for _, fo := range so.children(nsTypes, "FieldOrder") {
			uri, _ := fo.child(nsTypes, "FieldURI").attr("FieldURI")
			get, _, ok := itemField(uri)
			if !ok || uri == "item:Categories" {
				writeErrorResponse(w, "FindItem", &respError{code: "ErrorUnsupportedPathForSortGroup", text: "The property path is not supported for this sort or group operation.",
					messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`})
				return nil
			}
			order, _ := fo.attr("Order")
			if order != "Ascending" && order != "Descending" {
				return schemaFault(1, 1, fmt.Sprintf("The 'Order' attribute is invalid - The value '%s' is invalid according to its datatype '%s:SortDirectionType' - The Enumeration constraint failed.", order, nsTypes))
			}
			keys = append(keys, sortKey{get: get, desc: order == "Descending"})
		}
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	var body bytes.Buffer
	for _, idn := range n.child(nsMessages, "ParentFolderIds").Nodes {
		folder, err := q.folder(&idn)
		sf, re := splitErr(err)
		if sf != nil {
			return sf
		}
		if re != nil {
			writeRespError(&body, "FindItem", re, "")
			continue
		}
		var found []*xItem
		if traversal == "Shallow" {
			for _, it := range folder.items {
				if match(it) {
					found = append(found, it)
				}
			}
		}
		slices.SortStableFunc(found, func(a, b *xItem) int {
			for _, k := range keys {
				c := compareValues(k.get(a), k.get(b))
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		body.WriteString(`<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`)
		start, end := view.writeRootFolder(&body, len(found), "Items")
		for _, it := range found[start:end] {
			body.WriteString("<t:Message>")
			q.writeItemProps(&body, it, sh)
			body.WriteString("</t:Message>")
		}
		body.WriteString(`</t:Items></m:RootFolder></m:FindItemResponseMessage>`)
	}
	writeResponse(w, "FindItem", body.Bytes())
	return nil
}

// getItem answers GetItem, streaming each message's MimeContent from the
// stored bytes through a base64 encoder: the encoded form of a large
// message is never held in memory.
func (q *ewsRequest) getItem(w http.ResponseWriter, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:ItemShape": true, "m:ItemIds": true}, "m:ItemShape", "m:ItemIds"); f != nil {
		return f
	}
	sh, f := q.parseItemShape(n.child(nsMessages, "ItemShape"))
	if f != nil {
		return f
	}
	// Resolve every id and take a snapshot of each item under the lock;
	// the raw bytes are immutable, so the snapshot shares them.
	type slot struct {
		item *xItem
		err  *respError
	}
	var slots []slot
	x := q.s.Exchange
	x.mu.Lock()
	for _, idn := range n.child(nsMessages, "ItemIds").Nodes {
		it, re := q.item(&idn)
		if re != nil {
			slots = append(slots, slot{err: re})
			continue
		}
		snap := *it
		snap.categories = slices.Clone(it.categories)
		folder := *it.folder
		snap.folder = &folder
		slots = append(slots, slot{item: &snap})
	}
	x.mu.Unlock()

	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	bw, flush := bufferedResponse(w)
	defer flush()
	responseStart(bw, "GetItem")
	for _, s := range slots {
		if s.err != nil {
			writeRespError(bw, "GetItem", s.err, "<m:Items />")
			continue
		}
		bw.WriteString(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message>`)
		if sh.mime {
			bw.WriteString(`<t:MimeContent CharacterSet="UTF-8">`)
			enc := base64.NewEncoder(base64.StdEncoding, bw)
			_, _ = enc.Write(s.item.raw)
			_ = enc.Close()
			bw.WriteString(`</t:MimeContent>`)
		}
		q.writeItemProps(bw, s.item, sh)
		bw.WriteString(`</t:Message></m:Items></m:GetItemResponseMessage>`)
	}
	responseEnd(bw, "GetItem")
	return nil
}

// ---- writes ----

// conflictCodes says which change key problems UpdateItem reports.
func (q *ewsRequest) checkChangeKey(n *xnode, it *xItem, resolution string) *respError {
	ck, ok := n.attr("ChangeKey")
	switch {
	case !ok || ck == "":
		if q.s.requireChangeKey {
			return &respError{code: "ErrorChangeKeyRequiredForWriteOperations", text: "When making a write operation, the change key for the item must be provided."}
		}
		return nil
	case !validChangeKey(ck):
		return &respError{code: "ErrorInvalidChangeKey", text: "The change key is invalid."}
	case ck != changeKey(it.version) && resolution == "NeverOverwrite":
		return &respError{code: "ErrorIrresolvableConflict", text: "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."}
	}
	return nil
}

// itemUpdate is one validated change to apply.
type itemUpdate func(it *xItem)

// parseUpdate validates one SetItemField, DeleteItemField or
// AppendToItemField.
func parseUpdate(u *xnode) (itemUpdate, *respError, *soapFault) {
	fieldNode := u.child(nsTypes, "FieldURI")
	if fieldNode == nil {
		if u.child(nsTypes, "ExtendedFieldURI") != nil || u.child(nsTypes, "IndexedFieldURI") != nil {
			return nil, &respError{code: "ErrorInvalidPropertySet", text: "Set action is invalid for property."}, nil
		}
		return nil, nil, schemaFault(1, 1, fmt.Sprintf("The element '%s' has incomplete content. List of possible elements expected: 'FieldURI'.", u.XMLName.Local))
	}
	uri, _ := fieldNode.attr("FieldURI")
	prop := func() (*xnode, *respError) {
		var holder *xnode
		for i := range u.Nodes {
			if u.Nodes[i].XMLName.Local != "FieldURI" {
				holder = &u.Nodes[i]
			}
		}
		if holder == nil || len(holder.Nodes) != 1 {
			return nil, &respError{code: "ErrorIncorrectUpdatePropertyCount", text: "An object within a change description must contain one and only one property to modify."}
		}
		return &holder.Nodes[0], nil
	}
	switch u.XMLName.Local {
	case "SetItemField":
		p, re := prop()
		if re != nil {
			return nil, re, nil
		}
		switch uri {
		case "message:IsRead":
			if p.XMLName.Local != "IsRead" {
				return nil, &respError{code: "ErrorIncorrectUpdatePropertyCount", text: "An object within a change description must contain one and only one property to modify."}, nil
			}
			v, ok := parseXMLBool(p.text())
			if !ok {
				return nil, nil, schemaFault(1, 1, fmt.Sprintf("The 'IsRead' element is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'.", p.text()))
			}
			return func(it *xItem) { it.read = v }, nil, nil
		case "item:Categories":
			if p.XMLName.Local != "Categories" {
				return nil, &respError{code: "ErrorIncorrectUpdatePropertyCount", text: "An object within a change description must contain one and only one property to modify."}, nil
			}
			var cats []string
			for _, s := range p.children(nsTypes, "String") {
				cats = append(cats, s.Text)
			}
			return func(it *xItem) { it.categories = cats }, nil, nil
		case "item:Flag":
			status := p.child(nsTypes, "FlagStatus").text()
			switch status {
			case "NotFlagged", "Flagged", "Complete":
			default:
				return nil, nil, schemaFault(1, 1, fmt.Sprintf("The 'FlagStatus' element is invalid - The value '%s' is invalid according to its datatype '%s:FlagStatusType' - The Enumeration constraint failed.", status, nsTypes))
			}
			return func(it *xItem) { it.flag = status }, nil, nil
		}
		if readOnlyItemURIs[uri] || !validItemURI(uri) {
			return nil, &respError{code: "ErrorInvalidPropertySet", text: "Set action is invalid for property.",
				messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`}, nil
		}
		// A property the fake does not model (Importance, Sensitivity,
		// reminders, recipients...): accepted and not stored.
		return func(*xItem) {}, nil, nil
	case "DeleteItemField":
		switch uri {
		case "item:Categories":
			return func(it *xItem) { it.categories = nil }, nil, nil
		case "item:Flag":
			return func(it *xItem) { it.flag = "NotFlagged" }, nil, nil
		case "message:IsRead":
		default:
			if !readOnlyItemURIs[uri] && validItemURI(uri) {
				return func(*xItem) {}, nil, nil
			}
		}
		return nil, &respError{code: "ErrorInvalidPropertyDelete", text: "This property can not be deleted.",
			messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`}, nil
	case "AppendToItemField":
		return nil, &respError{code: "ErrorInvalidPropertyAppend", text: "This property does not support append.",
			messageXML: `<t:FieldURI FieldURI="` + esc(uri) + `"/>`}, nil
	}
	return nil, nil, schemaFault(1, 1, fmt.Sprintf("The element 'Updates' has invalid child element '%s'.", u.XMLName.Local))
}

func (q *ewsRequest) updateItem(w io.Writer, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:ItemChanges": true}, "m:SavedItemFolderId", "m:ItemChanges"); f != nil {
		return f
	}
	resolution := attrOr(n, "ConflictResolution", "AutoResolve")
	switch resolution {
	case "NeverOverwrite", "AutoResolve", "AlwaysOverwrite":
	default:
		return schemaFault(1, 1, fmt.Sprintf("The 'ConflictResolution' attribute is invalid - The value '%s' is invalid according to its datatype '%s:ConflictResolutionType' - The Enumeration constraint failed.", resolution, nsTypes))
	}
	disposition, hasDisposition := n.attr("MessageDisposition")
	if hasDisposition {
		switch disposition {
		case "SaveOnly", "SendOnly", "SendAndSaveCopy":
		default:
			return schemaFault(1, 1, fmt.Sprintf("The 'MessageDisposition' attribute is invalid - The value '%s' is invalid according to its datatype '%s:MessageDispositionType' - The Enumeration constraint failed.", disposition, nsTypes))
		}
	}
	if v, ok := n.attr("SuppressReadReceipts"); ok {
		if q.rank < rankExchange2013SP1 {
			return schemaFault(1, 1, "The 'SuppressReadReceipts' attribute is not declared.")
		}
		if _, ok := parseXMLBool(v); !ok {
			return schemaFault(1, 1, fmt.Sprintf("The 'SuppressReadReceipts' attribute is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'.", v))
		}
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	var body bytes.Buffer
	for _, ch := range n.child(nsMessages, "ItemChanges").Nodes {
		if f := sequence(&ch, map[string]bool{"t:ItemId|t:OccurrenceItemId|t:RecurringMasterItemId": true, "t:Updates": true},
			"t:ItemId|t:OccurrenceItemId|t:RecurringMasterItemId", "t:Updates"); f != nil {
			return f
		}
		idn := &ch.Nodes[0]
		it, re := q.item(idn)
		if re == nil && !hasDisposition {
			re = &respError{code: "ErrorMessageDispositionRequired", text: "MessageDisposition attribute is required."}
		}
		if re == nil {
			re = q.checkChangeKey(idn, it, resolution)
		}
		var updates []itemUpdate
		if re == nil {
			for i := range ch.child(nsTypes, "Updates").Nodes {
				up, upErr, sf := parseUpdate(&ch.child(nsTypes, "Updates").Nodes[i])
				if sf != nil {
					return sf
				}
				if upErr != nil {
					re = upErr
					break
				}
				updates = append(updates, up)
			}
		}
		if re != nil {
			writeRespError(&body, "UpdateItem", re, "<m:Items />")
			continue
		}
		for _, up := range updates {
			up(it)
		}
		it.touch()
		fmt.Fprintf(&body, `<m:UpdateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:ItemId Id="%s" ChangeKey="%s"/></t:Message></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults></m:UpdateItemResponseMessage>`,
			it.id, changeKey(it.version))
	}
	writeResponse(w, "UpdateItem", body.Bytes())
	return nil
}

func (q *ewsRequest) moveItem(w io.Writer, n *xnode) *soapFault {
	if f := sequence(n, map[string]bool{"m:ToFolderId": true, "m:ItemIds": true}, "m:ToFolderId", "m:ItemIds", "m:ReturnNewItemIds"); f != nil {
		return f
	}
	returnIDs := true
	if r := n.child(nsMessages, "ReturnNewItemIds"); r != nil {
		if q.rank < rankExchange2010SP1 {
			return schemaFault(1, 1, "The element 'MoveItem' has invalid child element 'ReturnNewItemIds'.")
		}
		v, ok := parseXMLBool(r.text())
		if !ok {
			return schemaFault(1, 1, fmt.Sprintf("The 'ReturnNewItemIds' element is invalid - The value '%s' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean'.", r.text()))
		}
		returnIDs = v
	}
	to := n.child(nsMessages, "ToFolderId")
	if len(to.Nodes) != 1 {
		return schemaFault(1, 1, "The element 'ToFolderId' must hold exactly one folder id.")
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	dest, err := q.folder(&to.Nodes[0])
	destFault, destErr := splitErr(err)
	if destFault != nil {
		return destFault
	}
	var body bytes.Buffer
	for _, idn := range n.child(nsMessages, "ItemIds").Nodes {
		it, re := q.item(&idn)
		if re == nil && destErr != nil {
			re = destErr
		}
		if re == nil && it.folder.mailbox != dest.mailbox {
			re = &respError{code: "ErrorCrossMailboxMoveCopy", text: "Cross-mailbox moves and copies are not supported."}
		}
		if re != nil {
			writeRespError(&body, "MoveItem", re, "<m:Items />")
			continue
		}
		x.moveItem(it, dest)
		body.WriteString(`<m:MoveItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`)
		if returnIDs {
			fmt.Fprintf(&body, `<m:Items><t:Message><t:ItemId Id="%s" ChangeKey="%s"/></t:Message></m:Items>`, it.id, changeKey(it.version))
		} else {
			body.WriteString(`<m:Items />`)
		}
		body.WriteString(`</m:MoveItemResponseMessage>`)
	}
	writeResponse(w, "MoveItem", body.Bytes())
	return nil
}

func (q *ewsRequest) markAsJunk(w io.Writer, n *xnode) *soapFault {
	if q.rank < rankExchange2013 {
		return schemaFault(1, 1, fmt.Sprintf("The element 'MarkAsJunk' in namespace '%s' is not declared.", nsMessages))
	}
	if f := sequence(n, map[string]bool{"m:ItemIds": true}, "m:ItemIds"); f != nil {
		return f
	}
	isJunk, ok1 := parseXMLBool(attrOr(n, "IsJunk", ""))
	move, ok2 := parseXMLBool(attrOr(n, "MoveItem", ""))
	if !ok1 || !ok2 {
		return schemaFault(1, 1, "The required attributes 'IsJunk' and 'MoveItem' of 'MarkAsJunk' must be xs:boolean.")
	}
	x := q.s.Exchange
	x.mu.Lock()
	defer x.mu.Unlock()
	var body bytes.Buffer
	for _, idn := range n.child(nsMessages, "ItemIds").Nodes {
		it, re := q.item(&idn)
		if re != nil {
			writeRespError(&body, "MarkAsJunk", re, "")
			continue
		}
		if move {
			target := "inbox"
			if isJunk {
				target = "junkemail"
			}
			if dest := it.folder.mailbox.distinguishedFolder(target); dest != nil && dest != it.folder {
				x.moveItem(it, dest)
			}
		}
		fmt.Fprintf(&body, `<m:MarkAsJunkResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:MovedItemId Id="%s" ChangeKey="%s"/></m:MarkAsJunkResponseMessage>`,
			it.id, changeKey(it.version))
	}
	writeResponse(w, "MarkAsJunk", body.Bytes())
	return nil
}

// convertID answers ConvertId with an error for every id, which is what
// clients probing the server version (exchangelib sends a dummy id) expect:
// the interesting part is the ServerVersionInfo header.
func (q *ewsRequest) convertID(w io.Writer, n *xnode) *soapFault {
	src := n.child(nsMessages, "SourceIds")
	if src == nil {
		return schemaFault(1, 1, "The element 'ConvertId' has incomplete content. List of possible elements expected: 'SourceIds'.")
	}
	responseStart(w, "ConvertId")
	for range src.Nodes {
		writeRespError(w, "ConvertId", errIDMalformed(), "")
	}
	responseEnd(w, "ConvertId")
	return nil
}
