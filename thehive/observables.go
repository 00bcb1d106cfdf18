package thehive

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Observable is an observable (an indicator or a file) of a case or an
// alert.
type Observable struct {
	ID        ObservableID `json:"_id"`
	CreatedBy string       `json:"_createdBy"`
	CreatedAt time.Time    `json:"-"` // _createdAt
	UpdatedBy string       `json:"_updatedBy,omitempty"`
	UpdatedAt time.Time    `json:"-"` // _updatedAt
	// DataType is the observable's type ("ip", "domain", "file"...).
	DataType string `json:"dataType"`
	// Data is the value; empty for a file observable.
	Data string `json:"data,omitempty"`
	// Attachment is the file of a file observable.
	Attachment *Attachment `json:"attachment,omitempty"`
	StartDate  time.Time   `json:"-"` // startDate
	TLP        TLP         `json:"tlp"`
	PAP        PAP         `json:"pap"`
	Tags       []string    `json:"tags,omitempty"`
	IOC        bool        `json:"ioc"`
	Sighted    bool        `json:"sighted"`
	SightedAt  time.Time   `json:"-"` // sightedAt
	Message    string      `json:"message,omitempty"`
	// Reports holds the analyzers' summaries, by analyzer name.
	Reports          map[string]json.RawMessage `json:"reports,omitempty"`
	IgnoreSimilarity bool                       `json:"ignoreSimilarity"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData map[string]any `json:"extraData,omitempty"`
}

func (o *Observable) times() []timeField {
	return []timeField{
		{"_createdAt", &o.CreatedAt}, {"_updatedAt", &o.UpdatedAt},
		{"startDate", &o.StartDate}, {"sightedAt", &o.SightedAt},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (o *Observable) UnmarshalJSON(b []byte) error {
	type plain Observable
	return unmarshalWithTimes(b, (*plain)(o), o.times())
}

// MarshalJSON encodes o as TheHive does, dates in epoch milliseconds.
func (o Observable) MarshalJSON() ([]byte, error) {
	type plain Observable
	return marshalWithTimes((*plain)(&o), o.times())
}

// ObservableCreate is one or more new observables of one data type: one
// per value of Data, or a single file observable.
type ObservableCreate struct {
	// DataType is required: "ip", "domain", "url", "mail", "hash", "file"...
	// (see the Data* constants); it must exist in TheHive.
	DataType string
	// Data holds the values, one observable each. Give Data or File.
	Data []string
	// File is the content of a file observable (DataType "file").
	File *File
	// Message describes the observable.
	Message string
	// TLP and PAP default to Amber.
	TLP              *TLP
	PAP              *PAP
	Tags             []string
	IOC              bool
	Sighted          bool
	SightedAt        time.Time
	IgnoreSimilarity bool
	// StartDate defaults to now.
	StartDate time.Time
}

// body returns the JSON of in; attachment, when set, names the multipart
// part holding the file (alert creation).
func (in *ObservableCreate) body(what, attachment string) (body, error) {
	if in == nil {
		return nil, invalid("%s: nil ObservableCreate", what)
	}
	if strings.TrimSpace(in.DataType) == "" {
		return nil, invalid("%s: data type is required", what)
	}
	switch {
	case in.File != nil && len(in.Data) > 0:
		return nil, invalid("%s: give Data or File, not both", what)
	case in.File == nil && len(in.Data) == 0:
		return nil, invalid("%s: Data or File is required", what)
	}
	for i, d := range in.Data {
		if strings.TrimSpace(d) == "" {
			return nil, invalid("%s: value %d is blank", what, i)
		}
	}
	if err := checkLevels(what, nil, in.TLP, in.PAP); err != nil {
		return nil, err
	}
	b := body{"dataType": in.DataType}
	switch len(in.Data) {
	case 0:
	case 1:
		b["data"] = in.Data[0]
	default:
		b["data"] = in.Data
	}
	b.str("attachment", attachment)
	b.str("message", in.Message)
	b.levels(in.TLP, in.PAP)
	b.strs("tags", in.Tags)
	b.flag("ioc", in.IOC)
	b.flag("sighted", in.Sighted)
	b.date("sightedAt", in.SightedAt)
	b.flag("ignoreSimilarity", in.IgnoreSimilarity)
	b.date("startDate", in.StartDate)
	return b, nil
}

// ObservableUpdate changes some fields of an observable. The value (data)
// cannot be changed. Nil fields are left as they are; Remove names fields
// to clear (e.g. "message", "sightedAt").
type ObservableUpdate struct {
	DataType         *string
	Message          *string
	TLP              *TLP
	PAP              *PAP
	IOC              *bool
	Sighted          *bool
	SightedAt        *time.Time
	IgnoreSimilarity *bool
	// Tags, when non-nil, replaces every tag.
	Tags       *[]string
	AddTags    []string
	RemoveTags []string
	Remove     []string
}

func (in *ObservableUpdate) body() (body, error) {
	if in == nil {
		return nil, invalid("observable update: nil ObservableUpdate")
	}
	if err := checkLevels("observable update", nil, in.TLP, in.PAP); err != nil {
		return nil, err
	}
	if in.DataType != nil && strings.TrimSpace(*in.DataType) == "" {
		return nil, invalid("observable update: empty data type")
	}
	p := newPatch()
	setp(p, "dataType", in.DataType)
	setp(p, "message", in.Message)
	setp(p, "tlp", in.TLP)
	setp(p, "pap", in.PAP)
	setp(p, "ioc", in.IOC)
	setp(p, "sighted", in.Sighted)
	p.date("sightedAt", in.SightedAt)
	setp(p, "ignoreSimilarity", in.IgnoreSimilarity)
	setp(p, "tags", in.Tags)
	p.list("addTags", in.AddTags)
	p.list("removeTags", in.RemoveTags)
	return p.finish("observable update", in.Remove)
}

// ObservablesService manages the observables of cases and alerts.
type ObservablesService service

// AddToCase adds observables to a case (POST /api/v1/case/{id}/observable):
// one per value of in.Data, or one file observable uploaded as multipart.
//
// TheHive refuses a value already present in the case. When every value is
// refused the error matches [ErrDuplicate]; when only some are, the created
// observables are returned with a [*PartialError], which matches
// ErrDuplicate when every refused value was a duplicate.
func (s *ObservablesService) AddToCase(ctx context.Context, caseID CaseID, in *ObservableCreate, opts ...CallOption) ([]Observable, error) {
	path, err := pathf("/api/v1/case/%s/observable", string(caseID))
	if err != nil {
		return nil, err
	}
	return s.create(ctx, path, in, opts)
}

// AddToAlert adds observables to an alert (POST
// /api/v1/alert/{id}/observable), as [ObservablesService.AddToCase] does
// to a case.
func (s *ObservablesService) AddToAlert(ctx context.Context, alertID AlertID, in *ObservableCreate, opts ...CallOption) ([]Observable, error) {
	path, err := pathf("/api/v1/alert/%s/observable", string(alertID))
	if err != nil {
		return nil, err
	}
	return s.create(ctx, path, in, opts)
}

func (s *ObservablesService) create(ctx context.Context, path string, in *ObservableCreate, opts []CallOption) ([]Observable, error) {
	b, err := in.body("observable", "")
	if err != nil {
		return nil, err
	}
	r := request{method: http.MethodPost, path: path, in: b}
	if in.File != nil {
		fp, err := in.File.part("attachment", "observable")
		if err != nil {
			return nil, err
		}
		mb, err := multipartBody(b, []httpx.Part{fp})
		if err != nil {
			return nil, err
		}
		r.in, r.body = nil, mb
	}
	resp, err := s.c.do(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := s.c.decode(resp, r, &raw); err != nil {
		return nil, err
	}
	return decodeCreated[Observable](raw, r)
}

// decodeCreated reads the answer to a creation of several entities: a list
// (201), or TheHive's {"success": [...], "failure": [...]} (207) when some
// values were refused.
func decodeCreated[T any](raw json.RawMessage, r request) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var out []T
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, r.decodingError(err)
		}
		return out, nil
	}
	var multi struct {
		Success []T       `json:"success"`
		Failure []Failure `json:"failure"`
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, r.decodingError(err)
	}
	_, hasS := probe["success"]
	_, hasF := probe["failure"]
	if !hasS && !hasF {
		var one T
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, r.decodingError(err)
		}
		return []T{one}, nil
	}
	if err := json.Unmarshal(raw, &multi); err != nil {
		return nil, r.decodingError(err)
	}
	if len(multi.Failure) == 0 {
		return multi.Success, nil
	}
	return multi.Success, &PartialError{Method: r.method, URL: r.path, Failures: multi.Failure}
}

// Get reads an observable (GET /api/v1/observable/{id}).
func (s *ObservablesService) Get(ctx context.Context, id ObservableID, opts ...CallOption) (*Observable, error) {
	return get[Observable](ctx, s.c, "/api/v1/observable/%s", string(id), opts)
}

// Update changes an observable (PATCH /api/v1/observable/{id}).
func (s *ObservablesService) Update(ctx context.Context, id ObservableID, in *ObservableUpdate, opts ...CallOption) error {
	b, err := in.body()
	if err != nil {
		return err
	}
	return s.c.update(ctx, "/api/v1/observable/%s", string(id), b, opts)
}

// Delete deletes an observable (DELETE /api/v1/observable/{id}).
func (s *ObservablesService) Delete(ctx context.Context, id ObservableID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/observable/%s", string(id), opts)
}

// Find returns the observables q selects, in every case and alert (query
// listObservable). For those of one case or alert, see
// [CasesService.FindObservables] and [AlertsService.FindObservables].
func (s *ObservablesService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]Observable, error) {
	return find[Observable](ctx, s.c, "observables", listOp("listObservable"), q, opts)
}

// FindAll iterates over every observable q selects.
func (s *ObservablesService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[Observable, error] {
	return findAll[Observable](ctx, s.c, "observables", listOp("listObservable"), q, opts)
}

// Count counts the observables f selects.
func (s *ObservablesService) Count(ctx context.Context, f Filter, opts ...CallOption) (int, error) {
	return count(ctx, s.c, "observable.count", listOp("listObservable"), f, opts)
}

// DownloadAttachment streams the file of a file observable (GET
// /api/v1/observable/{id}/attachment/{attachmentId}/download). The caller
// must close the reader.
func (s *ObservablesService) DownloadAttachment(ctx context.Context, id ObservableID, att AttachmentID, opts ...CallOption) (io.ReadCloser, error) {
	path, err := pathf("/api/v1/observable/%s/attachment/%s/download", string(id), string(att))
	if err != nil {
		return nil, err
	}
	return s.c.download(ctx, path, opts)
}
