package thehive

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Alert is a TheHive alert.
type Alert struct {
	ID        AlertID   `json:"_id"`
	CreatedBy string    `json:"_createdBy"`
	CreatedAt time.Time `json:"-"` // _createdAt
	UpdatedBy string    `json:"_updatedBy,omitempty"`
	UpdatedAt time.Time `json:"-"` // _updatedAt
	// Type, Source and SourceRef identify the alert in its organisation.
	Type         string   `json:"type"`
	Source       string   `json:"source"`
	SourceRef    string   `json:"sourceRef"`
	ExternalLink string   `json:"externalLink,omitempty"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Severity     Severity `json:"severity"`
	// Date is when the alert happened.
	Date         time.Time          `json:"-"` // date
	Tags         []string           `json:"tags,omitempty"`
	TLP          TLP                `json:"tlp"`
	PAP          PAP                `json:"pap"`
	Follow       bool               `json:"follow"`
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
	// CaseTemplate is the template a case made from the alert takes.
	CaseTemplate    string `json:"caseTemplate,omitempty"`
	ObservableCount int    `json:"observableCount"`
	// CaseID is the case the alert was promoted to or merged into.
	CaseID   CaseID      `json:"caseId,omitempty"`
	Status   AlertStatus `json:"status"`
	Stage    Stage       `json:"stage"`
	Assignee string      `json:"assignee,omitempty"`
	Summary  string      `json:"summary,omitempty"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData      map[string]any `json:"extraData,omitempty"`
	NewDate        time.Time      `json:"-"` // newDate
	InProgressDate time.Time      `json:"-"` // inProgressDate
	ClosedDate     time.Time      `json:"-"` // closedDate
	ImportedDate   time.Time      `json:"-"` // importedDate
}

func (a *Alert) times() []timeField {
	return []timeField{
		{"_createdAt", &a.CreatedAt}, {"_updatedAt", &a.UpdatedAt}, {"date", &a.Date},
		{"newDate", &a.NewDate}, {"inProgressDate", &a.InProgressDate},
		{"closedDate", &a.ClosedDate}, {"importedDate", &a.ImportedDate},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (a *Alert) UnmarshalJSON(b []byte) error {
	type plain Alert
	return unmarshalWithTimes(b, (*plain)(a), a.times())
}

// MarshalJSON encodes a as TheHive does, dates in epoch milliseconds.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	return marshalWithTimes((*plain)(&a), a.times())
}

// CustomField returns the value of the custom field name.
func (a *Alert) CustomField(name string) (CustomFieldValue, bool) {
	return lookupCustomField(a.CustomFields, name)
}

// AlertCreate is a new alert.
type AlertCreate struct {
	// Type, Source and SourceRef are required; together they identify the
	// alert in its organisation, and TheHive refuses a second alert with
	// the same three ([ErrDuplicate]).
	Type      string
	Source    string
	SourceRef string
	// Title and Description are required.
	Title        string
	Description  string
	ExternalLink string
	// Severity defaults to SeverityMedium; TLP and PAP to Amber.
	Severity Severity
	TLP      *TLP
	PAP      *PAP
	// Date defaults to now.
	Date         time.Time
	Tags         []string
	Flag         bool
	Status       AlertStatus
	Assignee     string
	Summary      string
	CustomFields CustomFields
	// CaseTemplate is applied when the alert becomes a case.
	CaseTemplate string
	// Observables are created with the alert. File observables are
	// uploaded in the same multipart request.
	Observables []ObservableCreate
}

func (in *AlertCreate) body() (body, []httpx.Part, error) {
	if in == nil {
		return nil, nil, invalid("alert: nil AlertCreate")
	}
	for _, f := range []struct{ name, v string }{
		{"type", in.Type}, {"source", in.Source}, {"sourceRef", in.SourceRef},
		{"title", in.Title}, {"description", in.Description},
	} {
		if strings.TrimSpace(f.v) == "" {
			return nil, nil, invalid("alert: %s is required", f.name)
		}
	}
	if err := checkCreate("alert", in.Severity, in.TLP, in.PAP, in.CustomFields); err != nil {
		return nil, nil, err
	}
	b := body{
		"type": in.Type, "source": in.Source, "sourceRef": in.SourceRef,
		"title": in.Title, "description": in.Description,
	}
	b.str("externalLink", in.ExternalLink)
	b.num("severity", int(in.Severity))
	b.levels(in.TLP, in.PAP)
	b.date("date", in.Date)
	b.strs("tags", in.Tags)
	b.flag("flag", in.Flag)
	b.str("status", string(in.Status))
	b.str("assignee", in.Assignee)
	b.str("summary", in.Summary)
	b.customFields(in.CustomFields)
	b.str("caseTemplate", in.CaseTemplate)
	var files []httpx.Part
	if len(in.Observables) > 0 {
		obs := make([]body, len(in.Observables))
		for i := range in.Observables {
			o := &in.Observables[i]
			what := "alert observable " + strconv.Itoa(i)
			key := ""
			if o.File != nil {
				key = "attachment" + strconv.Itoa(len(files))
				p, err := o.File.part(key, what)
				if err != nil {
					return nil, nil, err
				}
				files = append(files, p)
			}
			ob, err := o.body(what, key)
			if err != nil {
				return nil, nil, err
			}
			obs[i] = ob
		}
		b["observables"] = obs
	}
	return b, files, nil
}

// AlertUpdate changes some fields of an alert. Nil fields are left as they
// are; Remove names fields to clear (e.g. "assignee", "summary").
type AlertUpdate struct {
	Type         *string
	Source       *string
	SourceRef    *string
	ExternalLink *string
	Title        *string
	Description  *string
	Severity     *Severity
	Date         *time.Time
	LastSyncDate *time.Time
	TLP          *TLP
	PAP          *PAP
	Follow       *bool
	Status       *AlertStatus
	Summary      *string
	Assignee     *string
	// Tags, when non-nil, replaces every tag.
	Tags         *[]string
	AddTags      []string
	RemoveTags   []string
	CustomFields CustomFields
	Remove       []string
}

func (in *AlertUpdate) body() (body, error) {
	if in == nil {
		return nil, invalid("alert update: nil AlertUpdate")
	}
	if err := checkLevels("alert update", in.Severity, in.TLP, in.PAP); err != nil {
		return nil, err
	}
	if err := in.CustomFields.valid("alert update"); err != nil {
		return nil, err
	}
	p := newPatch()
	setp(p, "type", in.Type)
	setp(p, "source", in.Source)
	setp(p, "sourceRef", in.SourceRef)
	setp(p, "externalLink", in.ExternalLink)
	setp(p, "title", in.Title)
	setp(p, "description", in.Description)
	setp(p, "severity", in.Severity)
	p.date("date", in.Date)
	p.date("lastSyncDate", in.LastSyncDate)
	setp(p, "tlp", in.TLP)
	setp(p, "pap", in.PAP)
	setp(p, "follow", in.Follow)
	setp(p, "status", in.Status)
	setp(p, "summary", in.Summary)
	setp(p, "assignee", in.Assignee)
	setp(p, "tags", in.Tags)
	p.list("addTags", in.AddTags)
	p.list("removeTags", in.RemoveTags)
	p.customFields(in.CustomFields)
	return p.finish("alert update", in.Remove)
}

// AlertPromote overrides fields of the case made from an alert; unset
// fields are taken from the alert.
type AlertPromote struct {
	Title        string
	Description  string
	Severity     Severity
	TLP          *TLP
	PAP          *PAP
	StartDate    time.Time
	Tags         []string
	Flag         bool
	Status       CaseStatus
	Summary      string
	Assignee     string
	CustomFields CustomFields
	// CaseTemplate overrides the alert's case template.
	CaseTemplate string
	// Tasks, when set, replace the template's tasks.
	Tasks []TaskCreate
}

func (in *AlertPromote) body() (body, error) {
	b := body{}
	if in == nil {
		return b, nil
	}
	if err := checkCreate("promote", in.Severity, in.TLP, in.PAP, in.CustomFields); err != nil {
		return nil, err
	}
	b.str("title", in.Title)
	b.str("description", in.Description)
	b.num("severity", int(in.Severity))
	b.levels(in.TLP, in.PAP)
	b.date("startDate", in.StartDate)
	b.strs("tags", in.Tags)
	b.flag("flag", in.Flag)
	b.str("status", string(in.Status))
	b.str("summary", in.Summary)
	b.str("assignee", in.Assignee)
	b.customFields(in.CustomFields)
	b.str("caseTemplate", in.CaseTemplate)
	if in.Tasks != nil {
		if err := b.tasks(in.Tasks); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// AlertsService manages alerts.
type AlertsService service

// Create creates an alert with its observables (POST /api/v1/alert), as
// multipart when some observables are files.
//
// A second alert with the same (type, source, sourceRef) is refused with an
// error matching [ErrDuplicate]. That makes [SafeToRetry] safe for alerts:
// a retried creation that had succeeded ends in ErrDuplicate, and
// [AlertsService.GetBySourceRef] finds the alert.
func (s *AlertsService) Create(ctx context.Context, in *AlertCreate, opts ...CallOption) (*Alert, error) {
	b, files, err := in.body()
	if err != nil {
		return nil, err
	}
	r := request{method: http.MethodPost, path: "/api/v1/alert", in: b}
	if len(files) > 0 {
		mb, err := multipartBody(b, files)
		if err != nil {
			return nil, err
		}
		r.in, r.body = nil, mb
	}
	return send[Alert](ctx, s.c, r, opts)
}

// Get reads an alert (GET /api/v1/alert/{id}).
func (s *AlertsService) Get(ctx context.Context, id AlertID, opts ...CallOption) (*Alert, error) {
	return get[Alert](ctx, s.c, "/api/v1/alert/%s", string(id), opts)
}

// GetBySourceRef finds the alert of the organisation with the given type,
// source and sourceRef, the triple TheHive keeps unique, through the query
// API. The error matches [ErrNotFound] when there is none.
func (s *AlertsService) GetBySourceRef(ctx context.Context, typ, source, sourceRef string, opts ...CallOption) (*Alert, error) {
	if typ == "" || source == "" || sourceRef == "" {
		return nil, invalid("alert lookup: type, source and sourceRef are required")
	}
	alerts, err := s.Find(ctx, &Query{
		Filter: And(Eq("type", typ), Eq("source", source), Eq("sourceRef", sourceRef)),
		Limit:  2,
	}, opts...)
	if err != nil {
		return nil, err
	}
	// Filters may match loosely (case, words): keep the exact triple.
	for i := range alerts {
		a := &alerts[i]
		if a.Type == typ && a.Source == source && a.SourceRef == sourceRef {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%w: alert %s:%s:%s", ErrNotFound, typ, source, sourceRef)
}

// Update changes an alert (PATCH /api/v1/alert/{id}).
func (s *AlertsService) Update(ctx context.Context, id AlertID, in *AlertUpdate, opts ...CallOption) error {
	b, err := in.body()
	if err != nil {
		return err
	}
	return s.c.update(ctx, "/api/v1/alert/%s", string(id), b, opts)
}

// Delete deletes an alert (DELETE /api/v1/alert/{id}).
func (s *AlertsService) Delete(ctx context.Context, id AlertID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/alert/%s", string(id), opts)
}

// Find returns the alerts q selects (query listAlert).
func (s *AlertsService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]Alert, error) {
	return find[Alert](ctx, s.c, "alerts", listOp("listAlert"), q, opts)
}

// FindAll iterates over every alert q selects.
func (s *AlertsService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[Alert, error] {
	return findAll[Alert](ctx, s.c, "alerts", listOp("listAlert"), q, opts)
}

// Count counts the alerts f selects.
func (s *AlertsService) Count(ctx context.Context, f Filter, opts ...CallOption) (int, error) {
	return count(ctx, s.c, "alerts.count", listOp("listAlert"), f, opts)
}

// Promote makes a new case from an alert (POST /api/v1/alert/{id}/case),
// with in overriding what the case takes from the alert (nil: nothing).
// The alert's stage becomes Imported and its CaseID the new case's id.
func (s *AlertsService) Promote(ctx context.Context, id AlertID, in *AlertPromote, opts ...CallOption) (*Case, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	path, err := pathf("/api/v1/alert/%s/case", string(id))
	if err != nil {
		return nil, err
	}
	return send[Case](ctx, s.c, request{method: http.MethodPost, path: path, in: b}, opts)
}

// MergeIntoCase merges an alert, with its observables, into an existing
// case (POST /api/v1/alert/{id}/merge/{caseId}) and returns the case.
func (s *AlertsService) MergeIntoCase(ctx context.Context, id AlertID, caseID CaseID, opts ...CallOption) (*Case, error) {
	path, err := pathf("/api/v1/alert/%s/merge/%s", string(id), string(caseID))
	if err != nil {
		return nil, err
	}
	return send[Case](ctx, s.c, request{method: http.MethodPost, path: path}, opts)
}

// Follow makes TheHive mark the alert as updated when it changes (POST
// /api/v1/alert/{id}/follow).
func (s *AlertsService) Follow(ctx context.Context, id AlertID, opts ...CallOption) error {
	return s.toggle(ctx, "/api/v1/alert/%s/follow", id, opts)
}

// Unfollow stops following an alert (POST /api/v1/alert/{id}/unfollow).
func (s *AlertsService) Unfollow(ctx context.Context, id AlertID, opts ...CallOption) error {
	return s.toggle(ctx, "/api/v1/alert/%s/unfollow", id, opts)
}

func (s *AlertsService) toggle(ctx context.Context, format string, id AlertID, opts []CallOption) error {
	path, err := pathf(format, string(id))
	if err != nil {
		return err
	}
	return s.c.doJSON(ctx, request{method: http.MethodPost, path: path, idempotent: true}, nil, opts)
}

// FindObservables returns the observables of an alert that q selects.
func (s *AlertsService) FindObservables(ctx context.Context, id AlertID, q *Query, opts ...CallOption) ([]Observable, error) {
	if id == "" {
		return nil, invalid("empty alert id")
	}
	return find[Observable](ctx, s.c, "alert-observables", fromOp("getAlert", string(id), "observables"), q, opts)
}

// FindComments returns the comments of an alert that q selects.
func (s *AlertsService) FindComments(ctx context.Context, id AlertID, q *Query, opts ...CallOption) ([]Comment, error) {
	if id == "" {
		return nil, invalid("empty alert id")
	}
	return find[Comment](ctx, s.c, "alert-comments", fromOp("getAlert", string(id), "comments"), q, opts)
}
