package thehive

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Case is a TheHive case.
type Case struct {
	ID        CaseID    `json:"_id"`
	CreatedBy string    `json:"_createdBy"`
	CreatedAt time.Time `json:"-"` // _createdAt
	UpdatedBy string    `json:"_updatedBy,omitempty"`
	UpdatedAt time.Time `json:"-"` // _updatedAt
	// Number is the case's number in its organisation, from 1.
	Number      int       `json:"number"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Severity    Severity  `json:"severity"`
	StartDate   time.Time `json:"-"` // startDate
	EndDate     time.Time `json:"-"` // endDate, set when the case is closed
	Tags        []string  `json:"tags,omitempty"`
	Flag        bool      `json:"flag"`
	TLP         TLP       `json:"tlp"`
	PAP         PAP       `json:"pap"`
	// Status holds the resolution of a closed case (TruePositive...).
	Status CaseStatus `json:"status"`
	// Stage is New, InProgress or Closed.
	Stage        Stage        `json:"stage"`
	Summary      string       `json:"summary,omitempty"`
	ImpactStatus ImpactStatus `json:"impactStatus,omitempty"`
	// Assignee is the login of the case's owner.
	Assignee     string             `json:"assignee,omitempty"`
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData      map[string]any `json:"extraData,omitempty"`
	NewDate        time.Time      `json:"-"` // newDate
	InProgressDate time.Time      `json:"-"` // inProgressDate
	ClosedDate     time.Time      `json:"-"` // closedDate
}

func (c *Case) times() []timeField {
	return []timeField{
		{"_createdAt", &c.CreatedAt}, {"_updatedAt", &c.UpdatedAt},
		{"startDate", &c.StartDate}, {"endDate", &c.EndDate},
		{"newDate", &c.NewDate}, {"inProgressDate", &c.InProgressDate}, {"closedDate", &c.ClosedDate},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (c *Case) UnmarshalJSON(b []byte) error {
	type plain Case
	return unmarshalWithTimes(b, (*plain)(c), c.times())
}

// MarshalJSON encodes c as TheHive does, dates in epoch milliseconds.
func (c Case) MarshalJSON() ([]byte, error) {
	type plain Case
	return marshalWithTimes((*plain)(&c), c.times())
}

// CustomField returns the value of the custom field name.
func (c *Case) CustomField(name string) (CustomFieldValue, bool) {
	return lookupCustomField(c.CustomFields, name)
}

// Closed reports whether the case is in the Closed stage.
func (c *Case) Closed() bool { return c.Stage == StageClosed }

// CaseCreate is a new case.
type CaseCreate struct {
	// Title is required. A template's title prefix is prepended by TheHive.
	Title string
	// Description is required (Markdown).
	Description string
	// Template is the name (or id) of a case template whose tasks, tags,
	// custom fields and defaults the case takes.
	Template string
	// Severity defaults to the template's, else SeverityMedium.
	Severity Severity
	// TLP and PAP default to the template's, else Amber.
	TLP *TLP
	PAP *PAP
	// StartDate defaults to now.
	StartDate time.Time
	Tags      []string
	Flag      bool
	// Status defaults to New.
	Status CaseStatus
	// Assignee is the login of the owner; it must be a user of the
	// organisation.
	Assignee string
	Summary  string
	// CustomFields are set on the case, over the template's.
	CustomFields CustomFields
	// Tasks, when set, replace the template's tasks.
	Tasks []TaskCreate
}

func (in *CaseCreate) body() (body, error) {
	if in == nil {
		return nil, invalid("case: nil CaseCreate")
	}
	if strings.TrimSpace(in.Title) == "" {
		return nil, invalid("case: title is required")
	}
	if in.Description == "" {
		return nil, invalid("case: description is required")
	}
	if err := checkCreate("case", in.Severity, in.TLP, in.PAP, in.CustomFields); err != nil {
		return nil, err
	}
	b := body{"title": in.Title, "description": in.Description}
	b.str("caseTemplate", in.Template)
	b.num("severity", int(in.Severity))
	b.levels(in.TLP, in.PAP)
	b.date("startDate", in.StartDate)
	b.strs("tags", in.Tags)
	b.flag("flag", in.Flag)
	b.str("status", string(in.Status))
	b.str("assignee", in.Assignee)
	b.str("summary", in.Summary)
	b.customFields(in.CustomFields)
	if in.Tasks != nil {
		if err := b.tasks(in.Tasks); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// CaseUpdate changes some fields of a case. Nil fields are left as they
// are; Remove names fields to clear.
type CaseUpdate struct {
	Title       *string
	Description *string
	Severity    *Severity
	TLP         *TLP
	PAP         *PAP
	StartDate   *time.Time
	EndDate     *time.Time
	Flag        *bool
	Status      *CaseStatus
	Summary     *string
	// Assignee changes the owner; see also [CasesService.Assign].
	Assignee     *string
	ImpactStatus *ImpactStatus
	// Tags, when non-nil, replaces every tag (an empty list removes them).
	Tags *[]string
	// AddTags and RemoveTags add and remove some tags.
	AddTags    []string
	RemoveTags []string
	// CustomFields sets the values of these custom fields, leaving others.
	CustomFields CustomFields
	// Remove lists the JSON names of fields to clear (sent as null), e.g.
	// "summary", "assignee", "impactStatus".
	Remove []string
}

func (in *CaseUpdate) body() (body, error) {
	if in == nil {
		return nil, invalid("case update: nil CaseUpdate")
	}
	if err := checkLevels("case update", in.Severity, in.TLP, in.PAP); err != nil {
		return nil, err
	}
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		return nil, invalid("case update: empty title")
	}
	if err := in.CustomFields.valid("case update"); err != nil {
		return nil, err
	}
	p := newPatch()
	setp(p, "title", in.Title)
	setp(p, "description", in.Description)
	setp(p, "severity", in.Severity)
	setp(p, "tlp", in.TLP)
	setp(p, "pap", in.PAP)
	p.date("startDate", in.StartDate)
	p.date("endDate", in.EndDate)
	setp(p, "flag", in.Flag)
	setp(p, "status", in.Status)
	setp(p, "summary", in.Summary)
	setp(p, "assignee", in.Assignee)
	setp(p, "impactStatus", in.ImpactStatus)
	setp(p, "tags", in.Tags)
	p.list("addTags", in.AddTags)
	p.list("removeTags", in.RemoveTags)
	p.customFields(in.CustomFields)
	return p.finish("case update", in.Remove)
}

// CaseClose closes a case.
type CaseClose struct {
	// Status is the resolution: a status of the Closed stage
	// (CaseStatusTruePositive, CaseStatusFalsePositive...). Required.
	Status CaseStatus
	// ImpactStatus says whether the incident had an impact; empty means
	// ImpactNotApplicable.
	ImpactStatus ImpactStatus
	// Summary is the closing summary. Required by TheHive's UI; the API
	// accepts an empty one, which is not sent.
	Summary string
}

// CasesService manages cases.
type CasesService service

// Create creates a case (POST /api/v1/case), from a case template when
// in.Template is set. A creation is not retried unless the call is marked
// [SafeToRetry], which for cases risks a duplicate.
func (s *CasesService) Create(ctx context.Context, in *CaseCreate, opts ...CallOption) (*Case, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	return send[Case](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/case", in: b}, opts)
}

// Get reads a case by id or number (GET /api/v1/case/{id}).
func (s *CasesService) Get(ctx context.Context, id CaseID, opts ...CallOption) (*Case, error) {
	return get[Case](ctx, s.c, "/api/v1/case/%s", string(id), opts)
}

// Update changes a case (PATCH /api/v1/case/{id}).
func (s *CasesService) Update(ctx context.Context, id CaseID, in *CaseUpdate, opts ...CallOption) error {
	b, err := in.body()
	if err != nil {
		return err
	}
	return s.c.update(ctx, "/api/v1/case/%s", string(id), b, opts)
}

// Delete deletes a case (DELETE /api/v1/case/{id}). A deletion whose
// answer was lost and that was retried counts as done when the retry finds
// the case gone.
func (s *CasesService) Delete(ctx context.Context, id CaseID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/case/%s", string(id), opts)
}

// Assign makes login the owner of a case. When TheHive refuses because the
// user does not exist in the organisation, the error matches
// [ErrUnknownUser] (and unwraps to the server's answer).
func (s *CasesService) Assign(ctx context.Context, id CaseID, login string, opts ...CallOption) error {
	if strings.TrimSpace(login) == "" {
		return invalid("assign: empty login (to unassign, update with Remove: []string{\"assignee\"})")
	}
	err := s.Update(ctx, id, &CaseUpdate{Assignee: &login}, opts...)
	if err == nil || !(errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest)) {
		return err
	}
	// Tell an unknown user from an unknown case.
	if _, uerr := s.c.Users.Get(ctx, UserID(login), opts...); errors.Is(uerr, ErrNotFound) {
		return &UnknownUserError{Login: login, Err: err}
	}
	return err
}

// Close closes a case with a resolution status, an impact status and a
// summary (PATCH /api/v1/case/{id}).
func (s *CasesService) Close(ctx context.Context, id CaseID, in CaseClose, opts ...CallOption) error {
	switch in.Status {
	case "":
		return invalid("close: status is required")
	case CaseStatusNew, CaseStatusInProgress:
		return invalid("close: %s is not a closing status", in.Status)
	}
	impact := in.ImpactStatus
	if impact == "" {
		impact = ImpactNotApplicable
	}
	u := &CaseUpdate{Status: &in.Status, ImpactStatus: &impact}
	if in.Summary != "" {
		u.Summary = &in.Summary
	}
	return s.Update(ctx, id, u, opts...)
}

// Reopen sets a closed case back in progress.
func (s *CasesService) Reopen(ctx context.Context, id CaseID, opts ...CallOption) error {
	st := CaseStatusInProgress
	return s.Update(ctx, id, &CaseUpdate{Status: &st}, opts...)
}

// Merge merges two or more cases into a new case, whose title joins theirs
// with " / " (POST /api/v1/case/_merge/{id1},{id2}...). TheHive deletes the
// merged cases.
func (s *CasesService) Merge(ctx context.Context, ids []CaseID, opts ...CallOption) (*Case, error) {
	if len(ids) < 2 {
		return nil, invalid("merge: at least two cases are needed, got %d", len(ids))
	}
	segs := make([]string, len(ids))
	for i, id := range ids {
		if id == "" || strings.Contains(string(id), ",") {
			return nil, invalid("merge: invalid case id %q", id)
		}
		segs[i] = url.PathEscape(string(id))
	}
	return send[Case](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/case/_merge/" + strings.Join(segs, ",")}, opts)
}

// Find returns the cases q selects (query listCase).
func (s *CasesService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]Case, error) {
	return find[Case](ctx, s.c, "cases", listOp("listCase"), q, opts)
}

// FindAll iterates over every case q selects, fetching a page at a time.
func (s *CasesService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[Case, error] {
	return findAll[Case](ctx, s.c, "cases", listOp("listCase"), q, opts)
}

// Count counts the cases f selects.
func (s *CasesService) Count(ctx context.Context, f Filter, opts ...CallOption) (int, error) {
	return count(ctx, s.c, "cases.count", listOp("listCase"), f, opts)
}

// FindByCustomField returns the cases whose custom field name equals
// value, newest first: the lookup of a case by a key stored on it (a
// thread id, a message id).
func (s *CasesService) FindByCustomField(ctx context.Context, name string, value any, opts ...CallOption) ([]Case, error) {
	if name == "" {
		return nil, invalid("find by custom field: empty name")
	}
	return s.Find(ctx, &Query{Filter: Eq(CustomFieldPath(name), value), Sort: []Sort{Desc("_createdAt")}}, opts...)
}

// FindTasks returns the tasks of a case that q selects.
func (s *CasesService) FindTasks(ctx context.Context, id CaseID, q *Query, opts ...CallOption) ([]Task, error) {
	if id == "" {
		return nil, invalid("empty case id")
	}
	return find[Task](ctx, s.c, "case-tasks", fromOp("getCase", string(id), "tasks"), q, opts)
}

// FindTasksAll iterates over the tasks of a case that q selects.
func (s *CasesService) FindTasksAll(ctx context.Context, id CaseID, q *Query, opts ...CallOption) iter.Seq2[Task, error] {
	return findAll[Task](ctx, s.c, "case-tasks", fromOp("getCase", string(id), "tasks"), q, opts)
}

// FindObservables returns the observables of a case that q selects.
func (s *CasesService) FindObservables(ctx context.Context, id CaseID, q *Query, opts ...CallOption) ([]Observable, error) {
	if id == "" {
		return nil, invalid("empty case id")
	}
	return find[Observable](ctx, s.c, "case-observables", fromOp("getCase", string(id), "observables"), q, opts)
}

// FindObservablesAll iterates over the observables of a case that q
// selects.
func (s *CasesService) FindObservablesAll(ctx context.Context, id CaseID, q *Query, opts ...CallOption) iter.Seq2[Observable, error] {
	return findAll[Observable](ctx, s.c, "case-observables", fromOp("getCase", string(id), "observables"), q, opts)
}

// FindAlerts returns the alerts linked to a case (promoted to it or merged
// into it, including those of cases merged into it) that q selects.
func (s *CasesService) FindAlerts(ctx context.Context, id CaseID, q *Query, opts ...CallOption) ([]Alert, error) {
	if id == "" {
		return nil, invalid("empty case id")
	}
	return find[Alert](ctx, s.c, "case-alerts", fromOp("getCase", string(id), "alerts"), q, opts)
}

// FindComments returns the comments of a case that q selects.
func (s *CasesService) FindComments(ctx context.Context, id CaseID, q *Query, opts ...CallOption) ([]Comment, error) {
	if id == "" {
		return nil, invalid("empty case id")
	}
	return find[Comment](ctx, s.c, "case-comments", fromOp("getCase", string(id), "comments"), q, opts)
}
