package thehive

import (
	"context"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Log is an entry of a task's log.
type Log struct {
	ID        LogID     `json:"_id"`
	CreatedBy string    `json:"_createdBy"`
	CreatedAt time.Time `json:"-"` // _createdAt
	UpdatedBy string    `json:"_updatedBy,omitempty"`
	UpdatedAt time.Time `json:"-"` // _updatedAt
	// Message is the log's text (Markdown).
	Message string `json:"message"`
	// Date is the log's date.
	Date time.Time `json:"-"` // date
	// Owner is the login of the author.
	Owner       string       `json:"owner"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// IncludeInTimeline, when set, shows the log in the case's timeline at
	// that date.
	IncludeInTimeline time.Time `json:"-"` // includeInTimeline
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData map[string]any `json:"extraData,omitempty"`
}

func (l *Log) times() []timeField {
	return []timeField{
		{"_createdAt", &l.CreatedAt}, {"_updatedAt", &l.UpdatedAt},
		{"date", &l.Date}, {"includeInTimeline", &l.IncludeInTimeline},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (l *Log) UnmarshalJSON(b []byte) error {
	type plain Log
	return unmarshalWithTimes(b, (*plain)(l), l.times())
}

// MarshalJSON encodes l as TheHive does, dates in epoch milliseconds.
func (l Log) MarshalJSON() ([]byte, error) {
	type plain Log
	return marshalWithTimes((*plain)(&l), l.times())
}

// LogCreate is a new task log.
type LogCreate struct {
	// Message is required (Markdown).
	Message string
	// StartDate is the log's date; it defaults to now.
	StartDate time.Time
	// IncludeInTimeline, when set, shows the log in the case's timeline at
	// that date.
	IncludeInTimeline time.Time
	// Attachments are uploaded with the log, streamed in one multipart
	// request.
	Attachments []File
}

// TaskLogsService manages the logs of tasks.
type TaskLogsService service

// Create adds a log to a task (POST /api/v1/task/{id}/log), with its
// attachments as multipart when there are some. A creation is not retried
// unless marked [SafeToRetry].
func (s *TaskLogsService) Create(ctx context.Context, taskID TaskID, in *LogCreate, opts ...CallOption) (*Log, error) {
	if in == nil {
		return nil, invalid("task log: nil LogCreate")
	}
	if strings.TrimSpace(in.Message) == "" {
		return nil, invalid("task log: message is required")
	}
	path, err := pathf("/api/v1/task/%s/log", string(taskID))
	if err != nil {
		return nil, err
	}
	b := body{"message": in.Message}
	b.date("startDate", in.StartDate)
	b.date("includeInTimeline", in.IncludeInTimeline)
	r := request{method: http.MethodPost, path: path, in: b}
	if len(in.Attachments) > 0 {
		parts := make([]httpx.Part, len(in.Attachments))
		for i := range in.Attachments {
			p, err := in.Attachments[i].part("attachments", "task log attachment "+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			parts[i] = p
		}
		mb, err := multipartBody(b, parts)
		if err != nil {
			return nil, err
		}
		r.in, r.body = nil, mb
	}
	return send[Log](ctx, s.c, r, opts)
}

// Get reads a task log (query getLog: TheHive has no REST read for logs).
// The error matches [ErrNotFound] when there is none.
func (s *TaskLogsService) Get(ctx context.Context, id LogID, opts ...CallOption) (*Log, error) {
	return getOne[Log](ctx, s.c, "getLog", "task log", string(id), opts)
}

// LogUpdate changes a task log.
type LogUpdate struct {
	Message           *string
	IncludeInTimeline *time.Time
	// Remove names fields to clear, e.g. "includeInTimeline".
	Remove []string
}

// Update changes a task log (PATCH /api/v1/log/{id}).
func (s *TaskLogsService) Update(ctx context.Context, id LogID, in *LogUpdate, opts ...CallOption) error {
	if in == nil {
		return invalid("task log update: nil LogUpdate")
	}
	if in.Message != nil && strings.TrimSpace(*in.Message) == "" {
		return invalid("task log update: empty message")
	}
	p := newPatch()
	setp(p, "message", in.Message)
	p.date("includeInTimeline", in.IncludeInTimeline)
	b, err := p.finish("task log update", in.Remove)
	if err != nil {
		return err
	}
	return s.c.update(ctx, "/api/v1/log/%s", string(id), b, opts)
}

// Delete deletes a task log (DELETE /api/v1/log/{id}).
func (s *TaskLogsService) Delete(ctx context.Context, id LogID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/log/%s", string(id), opts)
}

// Find returns the logs of a task that q selects.
func (s *TaskLogsService) Find(ctx context.Context, taskID TaskID, q *Query, opts ...CallOption) ([]Log, error) {
	if taskID == "" {
		return nil, invalid("empty task id")
	}
	return find[Log](ctx, s.c, "case-task-logs", fromOp("getTask", string(taskID), "logs"), q, opts)
}

// FindAll iterates over the logs of a task that q selects.
func (s *TaskLogsService) FindAll(ctx context.Context, taskID TaskID, q *Query, opts ...CallOption) iter.Seq2[Log, error] {
	return findAll[Log](ctx, s.c, "case-task-logs", fromOp("getTask", string(taskID), "logs"), q, opts)
}

// DownloadAttachment streams an attachment of a task log (GET
// /api/v1/log/{id}/attachment/{attachmentId}/download). The caller must
// close the reader.
func (s *TaskLogsService) DownloadAttachment(ctx context.Context, id LogID, att AttachmentID, opts ...CallOption) (io.ReadCloser, error) {
	path, err := pathf("/api/v1/log/%s/attachment/%s/download", string(id), string(att))
	if err != nil {
		return nil, err
	}
	return s.c.download(ctx, path, opts)
}
