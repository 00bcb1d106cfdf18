package thehivetest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// observableRec is an observable of a case or of an alert.
type observableRec struct {
	base
	parentID         string // case or alert id
	dataType         string
	data             string
	attachment       *attachmentRec
	message          string
	startDate        int64
	tlp, pap         int64
	tags             []string
	ioc              bool
	sighted          bool
	sightedAt        int64
	ignoreSimilarity bool
	reports          map[string]any
}

func (o *observableRec) render(*store) map[string]any {
	m := o.common("Observable")
	m["dataType"] = o.dataType
	putStr(m, "data", o.data)
	if o.attachment != nil {
		m["attachment"] = o.attachment.view
	}
	m["startDate"] = o.startDate
	m["tlp"] = o.tlp
	m["tlpLabel"] = tlpLabels[o.tlp]
	m["pap"] = o.pap
	m["papLabel"] = papLabels[o.pap]
	if len(o.tags) > 0 {
		m["tags"] = strList(o.tags)
	}
	m["ioc"] = o.ioc
	m["sighted"] = o.sighted
	putDate(m, "sightedAt", o.sightedAt)
	reports := map[string]any{}
	for k, v := range o.reports {
		reports[k] = v
	}
	m["reports"] = reports
	putStr(m, "message", o.message)
	m["ignoreSimilarity"] = o.ignoreSimilarity
	return m
}

func (o *observableRec) attachmentHash() string {
	if o.attachment == nil {
		return ""
	}
	return o.attachment.hashes[0]
}

// similar reports whether two observables have the same type and value.
func (o *observableRec) similar(other *observableRec) bool {
	return o.dataType == other.dataType && o.data == other.data && o.attachmentHash() == other.attachmentHash()
}

// duplicateObservable returns the observable of parent with this type and
// data (or attachment hash), the uniqueness rule of TheHive.
func (st *store) duplicateObservable(parentID, dataType, data, hash string) *observableRec {
	for _, o := range st.observables.byID {
		if o.parentID == parentID && o.dataType == dataType && o.data == data && o.attachmentHash() == hash {
			return o
		}
	}
	return nil
}

// observableInput is an InputObservable.
type observableInput struct {
	dataType         string
	data             []string
	attachments      []json.RawMessage // part names or {name, contentType, id}
	message          string
	startDate        int64
	tlp, pap         int64
	hasTLP, hasPAP   bool
	tags             []string
	ioc, sighted     bool
	sightedAt        int64
	ignoreSimilarity bool
}

func parseObservableInput(f fields) observableInput {
	var in observableInput
	in.dataType = f.reqStr("dataType")
	in.data, _ = f.strs("data")
	if raw, ok := f.m["attachment"]; ok && !isNull(raw) {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			in.attachments = list
		} else {
			in.attachments = []json.RawMessage{raw}
		}
	}
	in.message, _ = f.str("message")
	in.startDate, _ = f.date("startDate")
	in.tlp, in.hasTLP = f.enumInt("tlp", 0, 4)
	in.pap, in.hasPAP = f.enumInt("pap", 0, 3)
	in.tags, _ = f.strs("tags")
	in.ioc, _ = f.boolean("ioc")
	in.sighted, _ = f.boolean("sighted")
	in.sightedAt, _ = f.date("sightedAt")
	in.ignoreSimilarity, _ = f.boolean("ignoreSimilarity")
	return in
}

// plannedObservable is one observable to create, its value resolved.
type plannedObservable struct {
	in         observableInput
	data       string
	upload     *upload        // a file part of the request
	existing   *attachmentRec // an attachment named by id
	objectName string         // how a failure names it
}

// planObservables turns inputs into the observables to create: one per data
// value for a text type, one per attachment for a file type. The data type
// must exist. Within one request duplicates are merged (their tags joined)
// when merge is set, as alert creation does.
func (c *call) planObservables(st *store, parentID string, inputs []observableInput, uploads map[string][]*upload, merge bool) ([]plannedObservable, error) {
	var out []plannedObservable
	index := map[string]int{}
	for _, in := range inputs {
		ot := st.observableType(in.dataType)
		if ot == nil {
			return nil, errNotFoundName("ObservableType", in.dataType)
		}
		var items []plannedObservable
		if ot.isAttachment {
			for _, raw := range in.attachments {
				p, err := c.planAttachment(st, in, raw, uploads)
				if err != nil {
					return nil, err
				}
				items = append(items, p)
			}
		} else {
			for _, d := range in.data {
				if strings.TrimSpace(d) == "" {
					continue
				}
				items = append(items, plannedObservable{in: in, data: d, objectName: d})
			}
		}
		for _, p := range items {
			key := in.dataType + "\x00" + p.data + "\x00" + p.hash()
			if i, seen := index[key]; seen && merge {
				out[i].in.tags = tagSet(out[i].in.tags, p.in.tags)
				continue
			}
			index[key] = len(out)
			out = append(out, p)
		}
	}
	return out, nil
}

func (p plannedObservable) hash() string {
	switch {
	case p.upload != nil:
		return p.upload.hashes[0]
	case p.existing != nil:
		return p.existing.hashes[0]
	}
	return ""
}

// planAttachment resolves an observable's attachment: the name of a file
// part of the request, or an existing attachment {name, contentType, id}.
func (c *call) planAttachment(st *store, in observableInput, raw json.RawMessage, uploads map[string][]*upload) (plannedObservable, error) {
	var key string
	if json.Unmarshal(raw, &key) == nil {
		list := uploads[key]
		if len(list) == 0 {
			return plannedObservable{}, errBadRequest("Attachment %s not found in the request", key)
		}
		u := list[0]
		uploads[key] = list[1:]
		return plannedObservable{in: in, upload: u, objectName: u.filename}, nil
	}
	var ref struct {
		Name        string `json:"name"`
		ContentType string `json:"contentType"`
		ID          string `json:"id"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil || ref.ID == "" {
		return plannedObservable{}, errBadRequest("Invalid attachment: %s", fieldString(raw))
	}
	for _, a := range st.attachments.byID {
		if a.hashes[0] == ref.ID || a.id == ref.ID {
			cp := *a
			if ref.Name != "" {
				cp.name = ref.Name
			}
			if ref.ContentType != "" {
				cp.contentType = ref.ContentType
			}
			return plannedObservable{in: in, existing: &cp, objectName: cp.name}, nil
		}
	}
	return plannedObservable{}, errNotFoundName("Attachment", ref.ID)
}

// storeObservable creates one planned observable under parent.
func (c *call) storeObservable(st *store, parentID, orgID string, p plannedObservable) *observableRec {
	in := p.in
	o := &observableRec{
		base:     st.newBase(orgID, c.login, c.now),
		parentID: parentID, dataType: in.dataType, data: p.data, message: in.message,
		startDate: c.now, tlp: 2, pap: 2, tags: tagSet(in.tags), ioc: in.ioc,
		sighted: in.sighted, sightedAt: in.sightedAt, ignoreSimilarity: in.ignoreSimilarity,
	}
	if in.startDate != 0 {
		o.startDate = in.startDate
	}
	if in.hasTLP {
		o.tlp = in.tlp
	}
	if in.hasPAP {
		o.pap = in.pap
	}
	switch {
	case p.upload != nil:
		o.attachment = st.newAttachment(p.upload, o.id, orgID, c.login, c.now)
	case p.existing != nil:
		o.attachment = st.copyAttachment(p.existing, o.id, c.login, c.now)
	}
	st.observables.put(o)
	st.refresh(o)
	c.audit(st, "create", o, parentID, observableDetails(o), nil)
	return o
}

func observableDetails(o *observableRec) map[string]any {
	d := map[string]any{
		"dataType": o.dataType, "tlp": o.tlp, "pap": o.pap, "ioc": o.ioc,
		"sighted": o.sighted, "ignoreSimilarity": o.ignoreSimilarity, "tags": strList(o.tags),
	}
	putStr(d, "data", o.data)
	putStr(d, "message", o.message)
	if o.attachment != nil {
		d["attachment"] = o.attachment.view
	}
	return d
}

// observableByID finds an observable of the caller's organisation.
func (c *call) observableByID(st *store, id string) (*observableRec, error) {
	return findInOrg(c, &st.observables, id, "Observable")
}

func (s *Server) observableRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/observable", name: "create observable in case", perm: "manageObservable", handle: s.createObservables("case")},
		{method: "POST", pattern: "/api/v1/alert/{id}/observable", name: "create artifact in alert", perm: "manageAlert/update", handle: s.createObservables("alert")},
		{method: "GET", pattern: "/api/v1/observable/{id}", name: "get observable", handle: s.getObservable},
		{method: "PATCH", pattern: "/api/v1/observable/{id}", name: "update observable", perm: "manageObservable", handle: s.updateObservables(false)},
		{method: "PATCH", pattern: "/api/v1/observable/_bulk", name: "bulk update observable", perm: "manageObservable", handle: s.updateObservables(true)},
		{method: "DELETE", pattern: "/api/v1/observable/{id}", name: "delete observable", perm: "manageObservable", handle: s.deleteObservable},
		{method: "GET", pattern: "/api/v1/observable/{id}/attachment/{attachmentId}/download", name: "download attachment", handle: s.downloadObservableAttachment},
		{method: "GET", pattern: "/api/v1/observable/{id}/attachment/{attachmentId}", name: "download attachment", handle: s.downloadObservableAttachment},
		{method: "GET", pattern: "/api/v1/observable/{id}/shares", name: "list observable shares", handle: s.observableShares},
		{method: "POST", pattern: "/api/v1/observable/{id}/shares", name: "share observable", perm: "manageShare", handle: s.shareChild("observable")},
		{method: "DELETE", pattern: "/api/v1/observable/{id}/shares", name: "unshare observable", perm: "manageShare", handle: s.shareChild("observable")},
		{method: "GET", pattern: "/api/v1/observable/type/{id}", name: "get observable type", handle: s.getObservableType},
		{method: "POST", pattern: "/api/v1/observable/type", name: "create observable type", perm: "manageObservableTemplate", handle: s.createObservableType},
		{method: "DELETE", pattern: "/api/v1/observable/type/{id}", name: "delete observable type", perm: "manageObservableTemplate", handle: s.deleteObservableType},
	}
}

// createObservables adds observables to a case or an alert from JSON, or
// from a multipart body with a "_json" part and an "attachment" file part.
// The answer is the list created (201), or 207 with "success" and "failure"
// lists when some values were refused, duplicates above all.
func (s *Server) createObservables(parentKind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, uploads, err := c.fieldsAndUploads()
		if err != nil {
			return reply{}, err
		}
		if dt := c.r.URL.Query().Get("dataType"); dt != "" && !f.present("dataType") {
			f.m["dataType"], _ = json.Marshal(dt)
		}
		in := parseObservableInput(f)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		if len(in.attachments) == 0 && len(uploads["attachment"]) > 0 {
			for range uploads["attachment"] {
				in.attachments = append(in.attachments, json.RawMessage(`"attachment"`))
			}
		}
		return c.write(func(st *store) (reply, error) {
			var parentID string
			switch parentKind {
			case "case":
				cs, err := c.caseByRef(st, c.param("id"))
				if err != nil {
					return reply{}, errAuthorization("Operation not permitted")
				}
				parentID = cs.id
			default:
				a, err := c.alertByRef(st, c.param("id"))
				if err != nil {
					return reply{}, errAuthorization("Operation not permitted")
				}
				parentID = a.id
			}
			planned, err := c.planObservables(st, parentID, []observableInput{in}, uploads, false)
			if err != nil {
				return reply{}, err
			}
			successes, failures := []any{}, []any{}
			for _, p := range planned {
				if st.duplicateObservable(parentID, in.dataType, p.data, p.hash()) != nil {
					failure := map[string]any{"type": "CreateError", "message": "Observable already exists"}
					if p.data != "" {
						failure["object"] = map[string]any{"data": p.data}
					} else {
						failure["object"] = map[string]any{"data": "file:" + p.objectName, "attachment": map[string]any{"name": p.objectName}}
					}
					failures = append(failures, failure)
					continue
				}
				o := c.storeObservable(st, parentID, c.orgID, p)
				successes = append(successes, o.view)
			}
			if parentKind == "alert" && len(successes) > 0 {
				if a, ok := st.alerts.get(parentID); ok {
					st.touch(a, c.login, c.now)
				}
			}
			if len(failures) > 0 {
				return reply{status: http.StatusMultiStatus, body: map[string]any{"success": successes, "failure": failures}}, nil
			}
			return created(successes), nil
		})
	}
}

func (s *Server) getObservable(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		o, err := c.observableByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		return ok(o.view), nil
	})
}

func parseObservableUpdate(f fields) {
	f.str("dataType")
	f.str("message")
	f.enumInt("tlp", 0, 4)
	f.enumInt("pap", 0, 3)
	f.strs("tags")
	f.strs("addTags")
	f.strs("removeTags")
	f.boolean("ioc")
	f.boolean("sighted")
	f.date("sightedAt")
	f.boolean("ignoreSimilarity")
}

func (c *call) updateObservableWith(st *store, o *observableRec, f fields) error {
	d := map[string]any{}
	if v, ok := f.str("dataType"); ok && v != o.dataType {
		ot := st.observableType(v)
		if ot == nil {
			return errNotFoundName("ObservableType", v)
		}
		if ot.isAttachment != (o.attachment != nil) {
			return errBadRequest("The data type of an observable cannot change between file and text types")
		}
		o.dataType, d["dataType"] = v, v
	}
	if f.has("message") {
		v, _ := f.str("message")
		o.message, d["message"] = v, nullable(v)
	}
	if v, ok := f.integer("tlp"); ok {
		o.tlp, d["tlp"] = v, v
	}
	if v, ok := f.integer("pap"); ok {
		o.pap, d["pap"] = v, v
	}
	o.tags = updateTags(f, o.tags, d)
	if v, ok := f.boolean("ioc"); ok {
		o.ioc, d["ioc"] = v, v
	}
	if v, ok := f.boolean("sighted"); ok {
		o.sighted, d["sighted"] = v, v
	}
	if f.has("sightedAt") {
		v, _ := f.date("sightedAt")
		o.sightedAt, d["sightedAt"] = v, nullableInt(v)
	}
	if v, ok := f.boolean("ignoreSimilarity"); ok {
		o.ignoreSimilarity, d["ignoreSimilarity"] = v, v
	}
	st.touch(o, c.login, c.now)
	c.audit(st, "update", o, o.parentID, d, nil)
	return nil
}

// updateObservables updates an observable (PATCH /api/v1/observable/{id})
// or, in bulk, the observables of the body's "ids" (PATCH
// /api/v1/observable/_bulk).
func (s *Server) updateObservables(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		ids := c.targets(f, bulk)
		parseObservableUpdate(f)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return applyAll(c, ids, c.observableByID, func(st *store, o *observableRec) error {
			return c.updateObservableWith(st, o, f)
		})
	}
}

func (s *Server) deleteObservable(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		o, err := c.observableByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.observables.remove(o.id)
		if a, ok := st.alerts.get(o.parentID); ok {
			st.touch(a, c.login, c.now)
		}
		c.audit(st, "delete", o, c.orgID, map[string]any{}, nil)
		return noContent(), nil
	})
}

// observableShares answers [] for an observable: the fake has no sharing.
func (s *Server) observableShares(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		if _, err := c.observableByID(st, c.param("id")); err != nil {
			return reply{}, err
		}
		return ok([]any{}), nil
	})
}

// downloadObservableAttachment answers a file observable's content, or a
// ZIP holding it encrypted with the password "malware" when asZip=true.
func (s *Server) downloadObservableAttachment(c *call) (reply, error) {
	asZip := c.r.URL.Query().Get("asZip")
	return c.read(func(st *store) (reply, error) {
		o, err := c.observableByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		a := o.attachment
		ref := c.param("attachmentId")
		if a == nil || (a.id != ref && a.hashes[0] != ref) {
			return reply{}, errNotFound("Attachment")
		}
		return downloadReply(a, strings.EqualFold(asZip, "true"))
	})
}

// mergeSimilarObservables merges a case's observables that have the same
// type and value: the fake never stores such duplicates, so it reports
// every observable untouched.
func (s *Server) mergeSimilarObservables(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		n := len(st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id }))
		return ok(map[string]any{"untouched": int64(n), "updated": int64(0), "deleted": int64(0)}), nil
	})
}

// similarObservables lists the observables of a case or alert that another
// case or alert has too.
func (s *Server) similarObservables(kind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.read(func(st *store) (reply, error) {
			var id string
			if kind == "case" {
				cs, err := c.caseByRef(st, c.param("id"))
				if err != nil {
					return reply{}, err
				}
				id = cs.id
			} else {
				a, err := c.alertByRef(st, c.param("id"))
				if err != nil {
					return reply{}, err
				}
				id = a.id
			}
			other := c.param("otherId")
			if cs, err := c.caseByRef(st, other); err == nil {
				other = cs.id
			} else if a, err := c.alertByRef(st, other); err == nil {
				other = a.id
			} else {
				return reply{}, errNotFound("Case or alert")
			}
			theirs := st.observables.filter(func(o *observableRec) bool { return o.parentID == other })
			out := []any{}
			for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == id }) {
				for _, t := range theirs {
					if o.similar(t) {
						out = append(out, o.view)
						break
					}
				}
			}
			return ok(out), nil
		})
	}
}

// observableTypeRec is a data type of observables.
type observableTypeRec struct {
	base
	name         string
	isAttachment bool
}

func (t *observableTypeRec) render(*store) map[string]any {
	m := t.common("ObservableType")
	delete(m, "extraData")
	m["name"] = t.name
	m["isAttachment"] = t.isAttachment
	return m
}

func (st *store) observableType(ref string) *observableTypeRec {
	if t, ok := st.observableTypes.get(ref); ok {
		return t
	}
	for _, t := range st.observableTypes.byID {
		if t.name == ref {
			return t
		}
	}
	return nil
}

func (s *Server) getObservableType(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		t := st.observableType(c.param("id"))
		if t == nil {
			return reply{}, errNotFound("Observable")
		}
		return ok(t.view), nil
	})
}

func (s *Server) createObservableType(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	name := f.reqStr("name")
	isAttachment, _ := f.boolean("isAttachment")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if st.observableType(name) != nil {
			return reply{}, errCreate("Observable type %s already exists", name)
		}
		t := &observableTypeRec{base: st.newBase("", c.login, c.now), name: name, isAttachment: isAttachment}
		st.observableTypes.put(t)
		st.refresh(t)
		return created(t.view), nil
	})
}

func (s *Server) deleteObservableType(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		t := st.observableType(c.param("id"))
		if t == nil {
			return reply{}, errNotFoundName("ObservableType", c.param("id"))
		}
		for _, o := range st.observables.byID {
			if o.dataType == t.name {
				return reply{}, errBadRequest("Observable type %s is used", t.name)
			}
		}
		st.observableTypes.remove(t.id)
		return noContent(), nil
	})
}
