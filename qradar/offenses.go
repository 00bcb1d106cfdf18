package qradar

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// OffensesService reads and updates offenses and their notes
// (/api/siem/offenses).
type OffensesService struct{ c *Client }

// OffenseListOptions selects and orders offenses.
type OffenseListOptions struct {
	// Filter selects offenses, e.g. And(Gt("last_updated_time", since),
	// Eq("status", StatusOpen)).
	Filter Filter
	// Fields limits the fields QRadar returns (the others stay zero).
	Fields []string
	// Sort orders offenses: "+id", "-last_updated_time", or several
	// separated by commas. Paging through a list that changes meanwhile is
	// only stable with a sort, "+id" being the safest.
	Sort string
	// Offset is the position of the first offense to return.
	Offset int
	// Limit is the page size (default DefaultPageSize).
	Limit int
}

func (o *OffenseListOptions) params() listParams {
	if o == nil {
		return listParams{query: url.Values{}}
	}
	return listParams{query: listQuery(o.Filter, o.Fields, o.Sort), offset: o.Offset, limit: o.Limit}
}

// List returns one page of offenses: GET /siem/offenses with a Range
// header for [opts.Offset, opts.Offset+opts.Limit).
func (s *OffensesService) List(ctx context.Context, opts *OffenseListOptions) (*Page[Offense], error) {
	return listPage[Offense](ctx, s.c, "siem/offenses", opts.params())
}

// ListAll returns an iterator over every offense the options select,
// fetched a page at a time from opts.Offset on. It fetches nothing until
// ranged over and stops at the first error, which it yields.
func (s *OffensesService) ListAll(ctx context.Context, opts *OffenseListOptions) iter.Seq2[Offense, error] {
	return listAll[Offense](ctx, s.c, "siem/offenses", opts.params())
}

// Get returns an offense: GET /siem/offenses/{offense_id}. fields, when
// given, limits the fields returned.
func (s *OffensesService) Get(ctx context.Context, id OffenseID, fields ...string) (*Offense, error) {
	q := url.Values{}
	fieldsQuery(q, fields)
	return call[Offense](ctx, s.c, &request{method: http.MethodGet, path: idPath("siem/offenses", int64(id)), query: q})
}

// OffenseUpdate is a change to an offense. Nil and zero fields are left
// unchanged.
type OffenseUpdate struct {
	// Status is the new status. CLOSED needs ClosingReasonID.
	Status OffenseStatus
	// ClosingReasonID is the reason for closing; only with StatusClosed.
	ClosingReasonID ClosingReasonID
	// AssignedTo is the user name to assign the offense to.
	AssignedTo *string
	// FollowUp sets or clears the follow-up flag.
	FollowUp *bool
	// Protected sets or clears protection (a protected offense is not
	// removed by retention).
	Protected *bool
	// Fields limits the fields of the offense returned.
	Fields []string
}

func (u *OffenseUpdate) query() (url.Values, error) {
	q := url.Values{}
	if u.Status != "" {
		if !u.Status.valid() {
			return nil, invalidParams("status %q is not OPEN, HIDDEN or CLOSED", u.Status)
		}
		q.Set("status", string(u.Status))
	}
	switch {
	case u.Status == StatusClosed && u.ClosingReasonID <= 0:
		return nil, invalidParams("closing an offense needs a closing reason")
	case u.Status != StatusClosed && u.ClosingReasonID != 0:
		return nil, invalidParams("a closing reason goes only with status CLOSED")
	case u.ClosingReasonID > 0:
		q.Set("closing_reason_id", strconv.FormatInt(int64(u.ClosingReasonID), 10))
	}
	if u.AssignedTo != nil {
		q.Set("assigned_to", *u.AssignedTo)
	}
	if u.FollowUp != nil {
		q.Set("follow_up", strconv.FormatBool(*u.FollowUp))
	}
	if u.Protected != nil {
		q.Set("protected", strconv.FormatBool(*u.Protected))
	}
	if len(q) == 0 {
		return nil, invalidParams("the update changes nothing")
	}
	fieldsQuery(q, u.Fields)
	return q, nil
}

// Update changes an offense and returns it: POST
// /siem/offenses/{offense_id} with the changes as query parameters. The
// request is retried on transient failures: sending the same change twice
// has the effect of sending it once (but a second close of an offense
// fails with ErrConflict; Close handles that).
func (s *OffensesService) Update(ctx context.Context, id OffenseID, u OffenseUpdate) (*Offense, error) {
	q, err := u.query()
	if err != nil {
		return nil, err
	}
	return call[Offense](ctx, s.c, &request{method: http.MethodPost, path: idPath("siem/offenses", int64(id)), query: q, idempotent: true})
}

// Close closes an offense with a closing reason and returns it. It first
// reads the offense: one that is already closed is returned with an error
// matching ErrAlreadyClosed and nothing is sent. If the console refuses
// the close as a conflict (another close got there first, or an earlier
// attempt whose answer was lost), the offense is read again and, when it
// is closed, returned with ErrAlreadyClosed too. Closing adds no note: use
// AddNote.
func (s *OffensesService) Close(ctx context.Context, id OffenseID, reason ClosingReasonID) (*Offense, error) {
	if reason <= 0 {
		return nil, invalidParams("closing an offense needs a closing reason")
	}
	o, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.Status == StatusClosed {
		return o, fmt.Errorf("qradar: offense %d: %w", id, ErrAlreadyClosed)
	}
	closed, err := s.Update(ctx, id, OffenseUpdate{Status: StatusClosed, ClosingReasonID: reason})
	if err == nil {
		return closed, nil
	}
	if !errors.Is(err, ErrConflict) {
		return nil, err
	}
	o, gerr := s.Get(ctx, id)
	if gerr == nil && o.Status == StatusClosed {
		return o, fmt.Errorf("qradar: offense %d: %w (%w)", id, ErrAlreadyClosed, err)
	}
	return nil, err
}

// NoteListOptions selects notes.
type NoteListOptions struct {
	// Filter selects notes, e.g. Ge("create_time", since).
	Filter Filter
	// Fields limits the fields returned.
	Fields []string
	// Offset is the position of the first note to return.
	Offset int
	// Limit is the page size (default DefaultPageSize).
	Limit int
}

func (o *NoteListOptions) params() listParams {
	if o == nil {
		return listParams{query: url.Values{}}
	}
	return listParams{query: listQuery(o.Filter, o.Fields, ""), offset: o.Offset, limit: o.Limit}
}

func notesPath(id OffenseID) string { return idPath("siem/offenses", int64(id)) + "/notes" }

// ListNotes returns one page of an offense's notes: GET
// /siem/offenses/{offense_id}/notes.
func (s *OffensesService) ListNotes(ctx context.Context, id OffenseID, opts *NoteListOptions) (*Page[Note], error) {
	return listPage[Note](ctx, s.c, notesPath(id), opts.params())
}

// ListNotesAll returns an iterator over every note of an offense.
func (s *OffensesService) ListNotesAll(ctx context.Context, id OffenseID, opts *NoteListOptions) iter.Seq2[Note, error] {
	return listAll[Note](ctx, s.c, notesPath(id), opts.params())
}

// GetNote returns one note: GET /siem/offenses/{offense_id}/notes/{note_id}.
func (s *OffensesService) GetNote(ctx context.Context, id OffenseID, noteID NoteID) (*Note, error) {
	return call[Note](ctx, s.c, &request{method: http.MethodGet, path: idPath(notesPath(id), int64(noteID))})
}

// AddNote adds a note to an offense and returns it: POST
// /siem/offenses/{offense_id}/notes?note_text=... It is never retried: a
// second attempt would add a second note.
func (s *OffensesService) AddNote(ctx context.Context, id OffenseID, text string) (*Note, error) {
	if text == "" {
		return nil, invalidParams("empty note text")
	}
	return call[Note](ctx, s.c, &request{method: http.MethodPost, path: notesPath(id), query: url.Values{"note_text": {text}}})
}
