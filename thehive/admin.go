package thehive

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Custom field types.
const (
	FieldString  = "string"
	FieldInteger = "integer"
	FieldFloat   = "float"
	FieldBoolean = "boolean"
	FieldDate    = "date"
	FieldURL     = "url"
)

func validFieldType(t string) bool {
	switch t {
	case FieldString, FieldInteger, FieldFloat, FieldBoolean, FieldDate, FieldURL:
		return true
	}
	return false
}

// CustomField is the definition of a custom field.
type CustomField struct {
	ID          CustomFieldID `json:"_id"`
	CreatedBy   string        `json:"_createdBy"`
	CreatedAt   time.Time     `json:"-"` // _createdAt
	UpdatedBy   string        `json:"_updatedBy,omitempty"`
	UpdatedAt   time.Time     `json:"-"` // _updatedAt
	Name        string        `json:"name"`
	DisplayName string        `json:"displayName"`
	Group       string        `json:"group"`
	Description string        `json:"description"`
	// Type is one of the Field* constants.
	Type string `json:"type"`
	// Options lists the allowed values, when restricted.
	Options   []any `json:"options,omitempty"`
	Mandatory bool  `json:"mandatory"`
}

func (f *CustomField) times() []timeField {
	return []timeField{{"_createdAt", &f.CreatedAt}, {"_updatedAt", &f.UpdatedAt}}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (f *CustomField) UnmarshalJSON(b []byte) error {
	type plain CustomField
	return unmarshalWithTimes(b, (*plain)(f), f.times())
}

// MarshalJSON encodes f as TheHive does, dates in epoch milliseconds.
func (f CustomField) MarshalJSON() ([]byte, error) {
	type plain CustomField
	return marshalWithTimes((*plain)(&f), f.times())
}

// CustomFieldCreate defines a new custom field. Name, Group, Description
// and Type are required.
type CustomFieldCreate struct {
	Name string
	// DisplayName defaults to Name.
	DisplayName string
	Group       string
	Description string
	// Type is one of the Field* constants.
	Type string
	// Options restricts the allowed values.
	Options   []any
	Mandatory bool
}

// CustomFieldsService manages custom field definitions (in the admin
// organisation, with the manageCustomField permission).
type CustomFieldsService service

// List returns every custom field definition (GET /api/v1/customField).
func (s *CustomFieldsService) List(ctx context.Context, opts ...CallOption) ([]CustomField, error) {
	var out []CustomField
	if err := s.c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/customField"}, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Create defines a custom field (POST /api/v1/customField). A name in use
// is refused with an error matching [ErrDuplicate].
func (s *CustomFieldsService) Create(ctx context.Context, in *CustomFieldCreate, opts ...CallOption) (*CustomField, error) {
	if in == nil {
		return nil, invalid("custom field: nil CustomFieldCreate")
	}
	for _, f := range []struct{ name, v string }{
		{"name", in.Name}, {"group", in.Group}, {"description", in.Description},
	} {
		if strings.TrimSpace(f.v) == "" {
			return nil, invalid("custom field: %s is required", f.name)
		}
	}
	if !validFieldType(in.Type) {
		return nil, invalid("custom field: unknown type %q", in.Type)
	}
	b := body{"name": in.Name, "group": in.Group, "description": in.Description, "type": in.Type}
	b.str("displayName", in.DisplayName)
	if len(in.Options) > 0 {
		b["options"] = in.Options
	}
	b.flag("mandatory", in.Mandatory)
	return send[CustomField](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/customField", in: b}, opts)
}

// Delete deletes a custom field definition by name or id (DELETE
// /api/v1/customField/{id}); force also deletes the values set on cases
// and alerts.
func (s *CustomFieldsService) Delete(ctx context.Context, id CustomFieldID, force bool, opts ...CallOption) error {
	path, err := pathf("/api/v1/customField/%s", string(id))
	if err != nil {
		return err
	}
	return s.c.doJSON(ctx, request{
		method: http.MethodDelete, path: path,
		query: url.Values{"force": {strconv.FormatBool(force)}},
	}, nil, opts)
}

// CaseTemplate is a case template.
type CaseTemplate struct {
	ID           CaseTemplateID     `json:"_id"`
	CreatedBy    string             `json:"_createdBy"`
	CreatedAt    time.Time          `json:"-"` // _createdAt
	UpdatedBy    string             `json:"_updatedBy,omitempty"`
	UpdatedAt    time.Time          `json:"-"` // _updatedAt
	Name         string             `json:"name"`
	DisplayName  string             `json:"displayName"`
	TitlePrefix  string             `json:"titlePrefix,omitempty"`
	Description  string             `json:"description,omitempty"`
	Severity     Severity           `json:"severity,omitempty"`
	Tags         []string           `json:"tags,omitempty"`
	Flag         bool               `json:"flag"`
	TLP          *TLP               `json:"tlp,omitempty"`
	PAP          *PAP               `json:"pap,omitempty"`
	Summary      string             `json:"summary,omitempty"`
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
	Tasks        []Task             `json:"tasks,omitempty"`
}

func (t *CaseTemplate) times() []timeField {
	return []timeField{{"_createdAt", &t.CreatedAt}, {"_updatedAt", &t.UpdatedAt}}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (t *CaseTemplate) UnmarshalJSON(b []byte) error {
	type plain CaseTemplate
	return unmarshalWithTimes(b, (*plain)(t), t.times())
}

// MarshalJSON encodes t as TheHive does, dates in epoch milliseconds.
func (t CaseTemplate) MarshalJSON() ([]byte, error) {
	type plain CaseTemplate
	return marshalWithTimes((*plain)(&t), t.times())
}

// CaseTemplateCreate is a new case template. Name is required and unique
// in the organisation.
type CaseTemplateCreate struct {
	Name         string
	DisplayName  string
	TitlePrefix  string
	Description  string
	Severity     Severity
	TLP          *TLP
	PAP          *PAP
	Tags         []string
	Flag         bool
	Summary      string
	Tasks        []TaskCreate
	CustomFields CustomFields
}

// CaseTemplatesService manages case templates.
type CaseTemplatesService service

// Create creates a case template (POST /api/v1/caseTemplate). A name in
// use is refused with an error matching [ErrDuplicate].
func (s *CaseTemplatesService) Create(ctx context.Context, in *CaseTemplateCreate, opts ...CallOption) (*CaseTemplate, error) {
	if in == nil {
		return nil, invalid("case template: nil CaseTemplateCreate")
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, invalid("case template: name is required")
	}
	if err := checkCreate("case template", in.Severity, in.TLP, in.PAP, in.CustomFields); err != nil {
		return nil, err
	}
	b := body{"name": in.Name}
	b.str("displayName", in.DisplayName)
	b.str("titlePrefix", in.TitlePrefix)
	b.str("description", in.Description)
	b.num("severity", int(in.Severity))
	b.levels(in.TLP, in.PAP)
	b.strs("tags", in.Tags)
	b.flag("flag", in.Flag)
	b.str("summary", in.Summary)
	if len(in.Tasks) > 0 {
		if err := b.tasks(in.Tasks); err != nil {
			return nil, err
		}
	}
	b.customFields(in.CustomFields)
	return send[CaseTemplate](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/caseTemplate", in: b}, opts)
}

// Get reads a case template by name or id (GET /api/v1/caseTemplate/{id}).
func (s *CaseTemplatesService) Get(ctx context.Context, id CaseTemplateID, opts ...CallOption) (*CaseTemplate, error) {
	return get[CaseTemplate](ctx, s.c, "/api/v1/caseTemplate/%s", string(id), opts)
}

// Delete deletes a case template (DELETE /api/v1/caseTemplate/{id}).
func (s *CaseTemplatesService) Delete(ctx context.Context, id CaseTemplateID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/caseTemplate/%s", string(id), opts)
}

// Find returns the case templates q selects (query listCaseTemplate).
func (s *CaseTemplatesService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]CaseTemplate, error) {
	return find[CaseTemplate](ctx, s.c, "caseTemplate", listOp("listCaseTemplate"), q, opts)
}

// FindAll iterates over the case templates q selects.
func (s *CaseTemplatesService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[CaseTemplate, error] {
	return findAll[CaseTemplate](ctx, s.c, "caseTemplate", listOp("listCaseTemplate"), q, opts)
}

// ObservableType is a data type observables may have.
type ObservableType struct {
	ID        ObservableTypeID `json:"_id"`
	CreatedBy string           `json:"_createdBy"`
	CreatedAt time.Time        `json:"-"` // _createdAt
	Name      string           `json:"name"`
	// IsAttachment is true for types whose observables are files.
	IsAttachment bool `json:"isAttachment"`
}

func (t *ObservableType) times() []timeField { return []timeField{{"_createdAt", &t.CreatedAt}} }

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (t *ObservableType) UnmarshalJSON(b []byte) error {
	type plain ObservableType
	return unmarshalWithTimes(b, (*plain)(t), t.times())
}

// MarshalJSON encodes t as TheHive does, dates in epoch milliseconds.
func (t ObservableType) MarshalJSON() ([]byte, error) {
	type plain ObservableType
	return marshalWithTimes((*plain)(&t), t.times())
}

// ObservableTypesService manages observable types (in the admin
// organisation).
type ObservableTypesService service

// Get reads an observable type by name or id (GET
// /api/v1/observable/type/{id}).
func (s *ObservableTypesService) Get(ctx context.Context, id ObservableTypeID, opts ...CallOption) (*ObservableType, error) {
	return get[ObservableType](ctx, s.c, "/api/v1/observable/type/%s", string(id), opts)
}

// Create adds an observable type (POST /api/v1/observable/type). A name
// in use is refused with an error matching [ErrDuplicate].
func (s *ObservableTypesService) Create(ctx context.Context, name string, isAttachment bool, opts ...CallOption) (*ObservableType, error) {
	if strings.TrimSpace(name) == "" {
		return nil, invalid("observable type: name is required")
	}
	b := body{"name": name, "isAttachment": isAttachment}
	return send[ObservableType](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/observable/type", in: b}, opts)
}

// Delete deletes an observable type (DELETE /api/v1/observable/type/{id}).
func (s *ObservableTypesService) Delete(ctx context.Context, id ObservableTypeID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/observable/type/%s", string(id), opts)
}

// Find returns the observable types q selects (query listObservableType).
func (s *ObservableTypesService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]ObservableType, error) {
	return find[ObservableType](ctx, s.c, "observableTypes", listOp("listObservableType"), q, opts)
}
