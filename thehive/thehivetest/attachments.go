package thehivetest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// upload is a file part of a multipart request. Its content was hashed and
// counted while it streamed in; the bytes are kept only up to the server's
// limit, so a large upload costs the fake little memory.
type upload struct {
	field       string
	filename    string
	contentType string
	size        int64
	hashes      []string // SHA-256, SHA-1, MD5, in hex, as TheHive lists them
	data        []byte
	kept        bool
}

const maxParts = 256

// readBody reads a JSON body, or a multipart/form-data body whose "_json"
// part (a plain field or a file part, as thehive4py sends it) is the JSON and
// whose other file parts are uploads, grouped by field name.
func (c *call) readBody() ([]byte, map[string][]*upload, error) {
	mediaType, params, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		b, err := c.body()
		return b, nil, err
	}
	if params["boundary"] == "" {
		return nil, nil, errBadRequest("multipart body without boundary")
	}
	mr := multipart.NewReader(c.r.Body, params["boundary"])
	uploads := map[string][]*upload{}
	var jsonPart []byte
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, errBadRequest("invalid multipart body: %v", err)
		}
		if n >= maxParts {
			return nil, nil, errBadRequest("too many parts in the multipart body")
		}
		name := part.FormName()
		switch {
		case name == "_json":
			b, err := io.ReadAll(io.LimitReader(part, maxJSONBody+1))
			if err != nil {
				return nil, nil, errBadRequest("cannot read the _json part: %v", err)
			}
			if len(b) > maxJSONBody {
				return nil, nil, errBadRequest("the _json part is too large")
			}
			jsonPart = b
		case part.FileName() != "":
			u, err := c.s.receive(part)
			if err != nil {
				return nil, nil, err
			}
			uploads[name] = append(uploads[name], u)
		default:
			// Other plain fields (canRename, ...) need no answer.
			_, _ = io.Copy(io.Discard, part)
		}
		_ = part.Close()
	}
	return jsonPart, uploads, nil
}

// fieldsAndUploads reads a body as readBody does and parses its JSON.
func (c *call) fieldsAndUploads() (fields, map[string][]*upload, error) {
	body, uploads, err := c.readBody()
	if err != nil {
		return fields{}, nil, err
	}
	f, err := parseFields(body)
	return f, uploads, err
}

// attachmentUploads reads the "attachments" file parts of a multipart
// body, of which there must be one at least.
func (c *call) attachmentUploads() ([]*upload, error) {
	_, uploads, err := c.readBody()
	if err != nil {
		return nil, err
	}
	files := uploads["attachments"]
	if len(files) == 0 {
		return nil, errBadRequest("No attachment in the request (file parts named \"attachments\")")
	}
	return files, nil
}

// receive streams one file part through the hashes.
func (s *Server) receive(part *multipart.Part) (*upload, error) {
	limit := s.cfg.keepBytes
	hs := []hash.Hash{sha256.New(), sha1.New(), md5.New()}
	w := &keeper{limit: limit}
	n, err := io.Copy(io.MultiWriter(hs[0], hs[1], hs[2], w), part)
	if err != nil {
		return nil, errBadRequest("cannot read the file part %q: %v", part.FormName(), err)
	}
	ct := part.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	u := &upload{field: part.FormName(), filename: part.FileName(), contentType: ct, size: n, kept: !w.over}
	for _, h := range hs {
		u.hashes = append(u.hashes, hex.EncodeToString(h.Sum(nil)))
	}
	if u.kept {
		u.data = w.buf.Bytes()
	}
	return u, nil
}

// keeper keeps what is written to it until it exceeds limit, then drops it.
type keeper struct {
	limit int64
	buf   bytes.Buffer
	over  bool
}

func (k *keeper) Write(p []byte) (int, error) {
	if k.over {
		return len(p), nil
	}
	if int64(k.buf.Len()+len(p)) > k.limit {
		k.over = true
		k.buf = bytes.Buffer{}
		return len(p), nil
	}
	return k.buf.Write(p)
}

// attachmentRec is a stored file: of an observable, a task log, a case, an
// alert or an organisation.
type attachmentRec struct {
	base
	ownerID     string
	name        string
	contentType string
	size        int64
	hashes      []string
	data        []byte
	kept        bool
}

func (a *attachmentRec) render(*store) map[string]any {
	m := a.common("Attachment")
	m["name"] = a.name
	m["hashes"] = strList(a.hashes)
	m["size"] = a.size
	m["contentType"] = a.contentType
	m["id"] = a.hashes[0]
	return m
}

func (st *store) newAttachment(u *upload, ownerID, orgID, by string, now int64) *attachmentRec {
	a := &attachmentRec{
		base:    st.newBase(orgID, by, now),
		ownerID: ownerID, name: u.filename, contentType: u.contentType,
		size: u.size, hashes: u.hashes, data: u.data, kept: u.kept,
	}
	st.attachments.put(a)
	st.refresh(a)
	return a
}

// copyAttachment stores a new attachment record with the same content.
func (st *store) copyAttachment(src *attachmentRec, ownerID, by string, now int64) *attachmentRec {
	a := &attachmentRec{
		base:    st.newBase(src.orgID, by, now),
		ownerID: ownerID, name: src.name, contentType: src.contentType,
		size: src.size, hashes: src.hashes, data: src.data, kept: src.kept,
	}
	st.attachments.put(a)
	st.refresh(a)
	return a
}

// downloadReply answers an attachment's bytes, or a ZIP holding them
// encrypted with TheHive's password "malware".
func downloadReply(a *attachmentRec, asZip bool) (reply, error) {
	if !a.kept {
		return reply{}, &apiError{
			status:  http.StatusNotFound,
			typ:     "NotFoundError",
			message: fmt.Sprintf("Attachment %s: content of %d bytes not kept by the fake (see WithKeptAttachmentBytes)", a.id, a.size),
		}
	}
	data, name, ct := a.data, a.name, a.contentType
	if asZip {
		var buf bytes.Buffer
		if err := writeEncryptedZip(&buf, a.name, a.data, []byte("malware")); err != nil {
			return reply{}, errInternal("cannot build the archive: %v", err)
		}
		data, name, ct = buf.Bytes(), a.name+".zip", "application/zip"
	}
	return reply{write: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	}}, nil
}

func (s *Server) attachmentRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/attachments", name: "add attachments to case", perm: "manageCase/update", handle: s.addAttachments("case")},
		{method: "GET", pattern: "/api/v1/case/{id}/attachment/{attachmentId}/download", name: "download attachment", handle: s.ownedAttachment("case", false)},
		{method: "DELETE", pattern: "/api/v1/case/{id}/attachment/{attachmentId}", name: "delete attachment", perm: "manageCase/update", handle: s.ownedAttachment("case", true)},
		{method: "POST", pattern: "/api/v1/alert/{id}/attachments", name: "add attachments to alert", perm: "manageAlert/update", handle: s.addAttachments("alert")},
		{method: "GET", pattern: "/api/v1/alert/{id}/attachment/{attachmentId}/download", name: "download attachment", handle: s.ownedAttachment("alert", false)},
		{method: "DELETE", pattern: "/api/v1/alert/{id}/attachment/{attachmentId}", name: "delete attachment", perm: "manageAlert/update", handle: s.ownedAttachment("alert", true)},
		{method: "POST", pattern: "/api/v1/attachment", name: "add attachments to organisation", handle: s.addAttachments("organisation")},
		{method: "GET", pattern: "/api/v1/attachment/{attachmentId}/download", name: "download attachment", handle: s.downloadAttachment},
		{method: "DELETE", pattern: "/api/v1/attachment/{attachmentId}", name: "delete attachment", handle: s.ownedAttachment("organisation", true)},
	}
}

// ownerOf resolves the case, alert or organisation an attachment route
// names.
func (c *call) ownerOf(st *store, kind string) (string, error) {
	switch kind {
	case "case":
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return "", err
		}
		return cs.id, nil
	case "alert":
		a, err := c.alertByRef(st, c.param("id"))
		if err != nil {
			return "", err
		}
		return a.id, nil
	}
	return c.orgID, nil
}

// addAttachments stores the "attachments" file parts of a multipart body.
func (s *Server) addAttachments(kind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		files, err := c.attachmentUploads()
		if err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			owner, err := c.ownerOf(st, kind)
			if err != nil {
				return reply{}, err
			}
			out := []any{}
			for _, u := range files {
				a := st.newAttachment(u, owner, c.orgID, c.login, c.now)
				out = append(out, a.view)
			}
			return created(map[string]any{"attachments": out}), nil
		})
	}
}

// ownedAttachment downloads or deletes an attachment of a case, an alert
// or the organisation.
func (s *Server) ownedAttachment(kind string, remove bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		run := c.read
		if remove {
			run = c.write
		}
		return run(func(st *store) (reply, error) {
			owner, err := c.ownerOf(st, kind)
			if err != nil {
				return reply{}, err
			}
			a, ok := st.attachments.get(c.param("attachmentId"))
			if !ok || a.ownerID != owner {
				return reply{}, errNotFound("Attachment")
			}
			if remove {
				st.attachments.remove(a.id)
				return noContent(), nil
			}
			return downloadReply(a, false)
		})
	}
}

// downloadAttachment downloads any attachment of the caller's organisation
// by its _id or its storage id (SHA-256).
func (s *Server) downloadAttachment(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		ref := c.param("attachmentId")
		if a, ok := st.attachments.get(ref); ok && a.orgID == c.orgID {
			return downloadReply(a, false)
		}
		for _, a := range st.attachments.all() {
			if a.orgID == c.orgID && a.hashes[0] == ref {
				return downloadReply(a, false)
			}
		}
		return reply{}, errNotFound("Attachment")
	})
}

// safeName is a file name for an archive entry.
func safeName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return "attachment"
	}
	return name
}
