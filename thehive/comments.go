package thehive

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Comment is a comment on a case or an alert.
type Comment struct {
	ID CommentID `json:"_id"`
	// CreatedBy and CreatedAt have no leading underscore in TheHive's
	// comments, unlike other entities.
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"-"` // createdAt
	UpdatedBy string    `json:"updatedBy,omitempty"`
	UpdatedAt time.Time `json:"-"` // updatedAt
	Message   string    `json:"message"`
	IsEdited  bool      `json:"isEdited"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData map[string]any `json:"extraData,omitempty"`
}

func (c *Comment) times() []timeField {
	return []timeField{{"createdAt", &c.CreatedAt}, {"updatedAt", &c.UpdatedAt}}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (c *Comment) UnmarshalJSON(b []byte) error {
	type plain Comment
	return unmarshalWithTimes(b, (*plain)(c), c.times())
}

// MarshalJSON encodes c as TheHive does, dates in epoch milliseconds.
func (c Comment) MarshalJSON() ([]byte, error) {
	type plain Comment
	return marshalWithTimes((*plain)(&c), c.times())
}

// CommentsService manages the comments of cases and alerts.
type CommentsService service

// AddToCase comments a case (POST /api/v1/case/{id}/comment).
func (s *CommentsService) AddToCase(ctx context.Context, caseID CaseID, message string, opts ...CallOption) (*Comment, error) {
	return s.add(ctx, "/api/v1/case/%s/comment", string(caseID), message, opts)
}

// AddToAlert comments an alert (POST /api/v1/alert/{id}/comment).
func (s *CommentsService) AddToAlert(ctx context.Context, alertID AlertID, message string, opts ...CallOption) (*Comment, error) {
	return s.add(ctx, "/api/v1/alert/%s/comment", string(alertID), message, opts)
}

func (s *CommentsService) add(ctx context.Context, format, id, message string, opts []CallOption) (*Comment, error) {
	if strings.TrimSpace(message) == "" {
		return nil, invalid("comment: message is required")
	}
	path, err := pathf(format, id)
	if err != nil {
		return nil, err
	}
	return send[Comment](ctx, s.c, request{method: http.MethodPost, path: path, in: body{"message": message}}, opts)
}

// Get reads a comment (query getComment: TheHive has no REST read for
// comments). The error matches [ErrNotFound] when there is none.
func (s *CommentsService) Get(ctx context.Context, id CommentID, opts ...CallOption) (*Comment, error) {
	return getOne[Comment](ctx, s.c, "getComment", "comment", string(id), opts)
}

// Update replaces the message of a comment (PATCH /api/v1/comment/{id}).
func (s *CommentsService) Update(ctx context.Context, id CommentID, message string, opts ...CallOption) error {
	if strings.TrimSpace(message) == "" {
		return invalid("comment update: message is required")
	}
	return s.c.update(ctx, "/api/v1/comment/%s", string(id), body{"message": message}, opts)
}

// Delete deletes a comment (DELETE /api/v1/comment/{id}).
func (s *CommentsService) Delete(ctx context.Context, id CommentID, opts ...CallOption) error {
	return s.c.remove(ctx, "/api/v1/comment/%s", string(id), opts)
}
