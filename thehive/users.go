package thehive

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// User is a TheHive user, as seen from the current organisation.
type User struct {
	ID        UserID    `json:"_id"`
	CreatedBy string    `json:"_createdBy"`
	CreatedAt time.Time `json:"-"` // _createdAt
	UpdatedBy string    `json:"_updatedBy,omitempty"`
	UpdatedAt time.Time `json:"-"` // _updatedAt
	// Login is the user's login, usually an email address.
	Login       string `json:"login"`
	Name        string `json:"name"`
	Email       string `json:"email,omitempty"`
	HasKey      bool   `json:"hasKey"`
	HasPassword bool   `json:"hasPassword"`
	HasMFA      bool   `json:"hasMFA"`
	Locked      bool   `json:"locked"`
	// Profile is the user's profile in Organisation ("analyst",
	// "org-admin"...).
	Profile      string   `json:"profile"`
	Permissions  []string `json:"permissions,omitempty"`
	Organisation string   `json:"organisation"`
	// Type is "Normal" or "Service".
	Type                string             `json:"type,omitempty"`
	DefaultOrganisation string             `json:"defaultOrganisation,omitempty"`
	Organisations       []UserOrganisation `json:"organisations,omitempty"`
	// ExtraData holds what a query asked for with Query.ExtraData.
	ExtraData map[string]any `json:"extraData,omitempty"`
}

// UserOrganisation is a user's profile in one organisation.
type UserOrganisation struct {
	OrganisationID string `json:"organisationId"`
	Organisation   string `json:"organisation"`
	Profile        string `json:"profile"`
}

func (u *User) times() []timeField {
	return []timeField{{"_createdAt", &u.CreatedAt}, {"_updatedAt", &u.UpdatedAt}}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	return unmarshalWithTimes(b, (*plain)(u), u.times())
}

// MarshalJSON encodes u as TheHive does, dates in epoch milliseconds.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	return marshalWithTimes((*plain)(&u), u.times())
}

// UsersService reads users.
type UsersService service

// Current returns the user the client authenticates as (GET
// /api/v1/user/current): a check of the credentials.
func (s *UsersService) Current(ctx context.Context, opts ...CallOption) (*User, error) {
	return send[User](ctx, s.c, request{method: http.MethodGet, path: "/api/v1/user/current"}, opts)
}

// Get reads a user by login or id (GET /api/v1/user/{id}). The error
// matches [ErrNotFound] when the user does not exist.
func (s *UsersService) Get(ctx context.Context, id UserID, opts ...CallOption) (*User, error) {
	return get[User](ctx, s.c, "/api/v1/user/%s", string(id), opts)
}

// Find returns the users of the organisation that q selects (query
// listUser).
func (s *UsersService) Find(ctx context.Context, q *Query, opts ...CallOption) ([]User, error) {
	return find[User](ctx, s.c, "users", listOp("listUser"), q, opts)
}

// FindAll iterates over the users q selects.
func (s *UsersService) FindAll(ctx context.Context, q *Query, opts ...CallOption) iter.Seq2[User, error] {
	return findAll[User](ctx, s.c, "users", listOp("listUser"), q, opts)
}
