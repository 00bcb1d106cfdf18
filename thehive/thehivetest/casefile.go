package thehivetest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
)

func (s *Server) caseFileRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/v1/case/{id}/export", name: "export case", handle: s.exportCase},
		{method: "POST", pattern: "/api/v1/case/import", name: "import case", perm: "manageCase/create", handle: s.importCase},
		{method: "POST", pattern: "/api/v1/case/{id}/owner", name: "change case owner", perm: "manageCase/changeOwnership", handle: s.changeCaseOwner},
	}
}

// caseArchive is the content of the fake's case export: the case and its
// tasks and observables, as the API renders them.
type caseArchive struct {
	Case        map[string]any   `json:"case"`
	Tasks       []map[string]any `json:"tasks"`
	Observables []map[string]any `json:"observables"`
}

// exportCase answers a case archive (.thar): a ZIP whose entry is encrypted
// with the password given in ?password=. TheHive's own archive layout is not
// documented; the fake's round-trips through its import.
func (s *Server) exportCase(c *call) (reply, error) {
	password := c.r.URL.Query().Get("password")
	if password == "" {
		return reply{}, errBadRequest("A password is required to export a case")
	}
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		arch := caseArchive{Case: cs.view}
		for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
			arch.Tasks = append(arch.Tasks, t.view)
		}
		for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id && o.attachment == nil }) {
			arch.Observables = append(arch.Observables, o.view)
		}
		data, err := json.Marshal(arch)
		if err != nil {
			return reply{}, errInternal("cannot export the case: %v", err)
		}
		var buf bytes.Buffer
		if err := writeEncryptedZip(&buf, "case.json", data, []byte(password)); err != nil {
			return reply{}, errInternal("cannot export the case: %v", err)
		}
		out := buf.Bytes()
		return reply{write: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.Itoa(len(out)))
			w.Header().Set("Content-Disposition", `attachment; filename="case-`+strconv.FormatInt(cs.number, 10)+`.thar"`)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out)
		}}, nil
	})
}

// importCase creates a case from an archive made by exportCase: multipart
// with "_json" {"password"} and the archive as the "file" part.
func (s *Server) importCase(c *call) (reply, error) {
	f, uploads, err := c.fieldsAndUploads()
	if err != nil {
		return reply{}, err
	}
	password := f.reqStr("password")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	files := uploads["file"]
	if len(files) == 0 || !files[0].kept {
		return reply{}, errBadRequest("The case archive is missing (a file part named \"file\")")
	}
	arch, err := readCaseArchive(files[0].data, []byte(password))
	if err != nil {
		return reply{}, err
	}
	in := caseInput{hasSeverity: true, hasTLP: true, hasPAP: true, hasFlag: true, hasAssignee: true}
	in.title, _ = arch.Case["title"].(string)
	in.description, _ = arch.Case["description"].(string)
	in.severity, in.tlp, in.pap = num(arch.Case["severity"], 2), num(arch.Case["tlp"], 2), num(arch.Case["pap"], 2)
	in.flag, _ = arch.Case["flag"].(bool)
	in.summary, _ = arch.Case["summary"].(string)
	in.tags = stringsOf(arch.Case["tags"])
	for _, t := range arch.Tasks {
		title, _ := t["title"].(string)
		group, _ := t["group"].(string)
		description, _ := t["description"].(string)
		in.tasks = append(in.tasks, taskInput{title: title, group: group, description: description, order: num(t["order"], 0)})
	}
	in.hasTasks = true
	return c.write(func(st *store) (reply, error) {
		cs, err := c.newCase(st, in, nil)
		if err != nil {
			return reply{}, err
		}
		var observables []any
		for _, o := range arch.Observables {
			dataType, _ := o["dataType"].(string)
			data, _ := o["data"].(string)
			if st.observableType(dataType) == nil || data == "" || st.duplicateObservable(cs.id, dataType, data, "") != nil {
				continue
			}
			oi := observableInput{dataType: dataType, tags: stringsOf(o["tags"]), tlp: num(o["tlp"], 2), pap: num(o["pap"], 2), hasTLP: true, hasPAP: true}
			oi.message, _ = o["message"].(string)
			oi.ioc, _ = o["ioc"].(bool)
			rec := c.storeObservable(st, cs.id, cs.orgID, plannedObservable{in: oi, data: data})
			observables = append(observables, rec.view)
		}
		st.refresh(cs)
		return ok(map[string]any{"case": cs.view, "observables": observables, "procedures": []any{}, "errors": []any{}}), nil
	})
}

func num(v any, def int64) int64 {
	if f, ok := toFloat(v); ok {
		return int64(f)
	}
	return def
}

// readCaseArchive opens an archive written by exportCase.
func readCaseArchive(data, password []byte) (caseArchive, error) {
	var arch caseArchive
	bad := errBadRequest("Invalid case archive or wrong password")
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Flags&1 == 0 {
		return arch, bad
	}
	f := zr.File[0]
	rc, err := f.OpenRaw()
	if err != nil {
		return arch, bad
	}
	raw, err := io.ReadAll(rc)
	if err != nil || len(raw) < 12 {
		return arch, bad
	}
	plain := newZipCipher(password).decrypt(raw)
	if plain[11] != byte(f.CRC32>>24) {
		return arch, bad
	}
	plain = plain[12:]
	if crc32.ChecksumIEEE(plain) != f.CRC32 {
		return arch, bad
	}
	if err := json.Unmarshal(plain, &arch); err != nil || arch.Case == nil {
		return arch, bad
	}
	return arch, nil
}

// changeCaseOwner hands a case to another organisation; the fake has one
// organisation per case, so only the current owner is accepted.
func (s *Server) changeCaseOwner(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	org := f.reqStr("organisation")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		o := st.org(org)
		if o == nil {
			return reply{}, errNotFound("Organisation")
		}
		if o.id != cs.orgID {
			return reply{}, errBadRequest("The case must be shared with organisation %s before it can own it", o.name)
		}
		return noContent(), nil
	})
}
