package thehive

import (
	"context"
	"iter"
	"net/http"
	"strings"
	"time"
)

// Task is a task of a case.
type Task struct {
	ID          TaskID     `json:"_id"`
	CreatedBy   string     `json:"_createdBy"`
	CreatedAt   time.Time  `json:"-"` // _createdAt
	UpdatedBy   string     `json:"_updatedBy,omitempty"`
	UpdatedAt   time.Time  `json:"-"` // _updatedAt
	Title       string     `json:"title"`
	Group       string     `json:"group"`
	Description string     `json:"description,omitempty"`
	Status      TaskStatus `json:"status"`
	Flag        bool       `json:"flag"`
	StartDate   time.Time  `json:"-"` // startDate
	EndDate     time.Time  `json:"-"` // endDate
	DueDate     time.Time  `json:"-"` // dueDate
	Assignee    string     `json:"assignee,omitempty"`
	Order       int        `json:"order"`
	Mandatory   bool       `json:"mandatory"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData map[string]any `json:"extraData,omitempty"`
}

func (t *Task) times() []timeField {
	return []timeField{
		{"_createdAt", &t.CreatedAt}, {"_updatedAt", &t.UpdatedAt},
		{"startDate", &t.StartDate}, {"endDate", &t.EndDate}, {"dueDate", &t.DueDate},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	return unmarshalWithTimes(b, (*plain)(t), t.times())
}

// MarshalJSON encodes t as TheHive does, dates in epoch milliseconds.
func (t Task) MarshalJSON() ([]byte, error) {
	type plain Task
	return marshalWithTimes((*plain)(&t), t.times())
}

// TaskCreate is a new task.
type TaskCreate struct {
	// Title is required (at most 128 characters).
	Title string
	// Group defaults to "default".
	Group       string
	Description string
	// Status defaults to TaskWaiting.
	Status TaskStatus
	Flag   bool
	// StartDate is when work on the task started.
	StartDate time.Time
	EndDate   time.Time
	DueDate   time.Time
	Order     int
	// Assignee is the login of the user in charge.
	Assignee  string
	Mandatory bool
}

func (in *TaskCreate) body() (body, error) {
	if in == nil {
		return nil, invalid("task: nil TaskCreate")
	}
	if strings.TrimSpace(in.Title) == "" {
		return nil, invalid("task: title is required")
	}
	if in.Status != "" && !in.Status.Valid() {
		return nil, invalid("task: unknown status %q", in.Status)
	}
	b := body{"title": in.Title}
	b.str("group", in.Group)
	b.str("description", in.Description)
	b.str("status", string(in.Status))
	b.flag("flag", in.Flag)
	b.date("startDate", in.StartDate)
	b.date("endDate", in.EndDate)
	b.date("dueDate", in.DueDate)
	b.num("order", in.Order)
	b.str("assignee", in.Assignee)
	b.flag("mandatory", in.Mandatory)
	return b, nil
}

// TaskUpdate changes some fields of a task. Nil fields are left as they
// are; Remove names fields to clear (e.g. "assignee", "dueDate").
type TaskUpdate struct {
	Title       *string
	Group       *string
	Description *string
	Status      *TaskStatus
	Flag        *bool
	StartDate   *time.Time
	EndDate     *time.Time
	DueDate     *time.Time
	Order       *int
	Assignee    *string
	Mandatory   *bool
	Remove      []string
}

func (in *TaskUpdate) body() (body, error) {
	if in == nil {
		return nil, invalid("task update: nil TaskUpdate")
	}
	if in.Status != nil && !in.Status.Valid() {
		return nil, invalid("task update: unknown status %q", *in.Status)
	}
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		return nil, invalid("task update: empty title")
	}
	p := newPatch()
	setp(p, "title", in.Title)
	setp(p, "group", in.Group)
	setp(p, "description", in.Description)
	setp(p, "status", in.Status)
	setp(p, "flag", in.Flag)
	p.date("startDate", in.StartDate)
	p.date("endDate", in.EndDate)
	p.date("dueDate", in.DueDate)
	setp(p, "order", in.Order)
	setp(p, "assignee", in.Assignee)
	setp(p, "mandatory", in.Mandatory)
	return p.finish("task update", in.Remove)
}

// TasksService manages the tasks of cases.
type TasksService service

// Create adds a task to a case (POST /api/v1/case/{id}/task). A creation
// is not retried unless marked [SafeToRetry].
func (s *TasksService) Create(ctx context.Context, caseID CaseID, in *TaskCreate, opts ...CallOption) (*Task, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	path, err := pathf("/api/v1/case/%s/task", string(caseID))
	if err != nil {
		return nil, err
	}
	return send[Task](ctx, s.c, request{method: http.MethodPost, path: path, in: b}, opts)
}

// Get reads a task (GET /api/v1/task/{id}).
func (s *TasksService) Get(ctx context.Context, id TaskID, opts ...CallOption) (*Task, error) {
	return get[Task](ctx, s.c, "/api/v1/task/%s", string(id), opts)
}

// Update changes a task (PATCH /api/v1/task/{id}).
func (s *TasksService) Update(ctx context.Context, id TaskID, in *TaskUpdate, opts ...CallOption) error {
	b, err := in.body()
	if err != nil {
		return err
	}
	return s.c.update(ctx, "/api/v1/task/%s", string(id), b, opts)
}

// Delete deletes a task (DELETE /api/v1/task/{id}).
func (s *TasksService) Delete(ctx context.Context, id TaskID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/task/%s", string(id), opts)
}

// Find returns the tasks q selects, in every case (query listTask). For
// the tasks of one case, see [CasesService.FindTasks].
func (s *TasksService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]Task, error) {
	return find[Task](ctx, s.c, "tasks", listOp("listTask"), q, opts)
}

// FindAll iterates over every task q selects.
func (s *TasksService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[Task, error] {
	return findAll[Task](ctx, s.c, "tasks", listOp("listTask"), q, opts)
}

// Count counts the tasks f selects.
func (s *TasksService) Count(ctx context.Context, f Filter, opts ...CallOption) (int, error) {
	return count(ctx, s.c, "task.count", listOp("listTask"), f, opts)
}
