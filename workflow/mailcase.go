package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/synapse-go/synapse/observable"
	"github.com/synapse-go/synapse/thehive"
)

// FindThreadCase looks for the case of the message's thread: the case whose
// number the subject names ("[#123]"), else a case tagged with one of the
// message's keys (its conversation, the messages it answers, or the message
// itself when a previous run already handled it). It finds them through the
// query API, never by free-text search. When several cases match, an open
// one is preferred, then the most recent.
func FindThreadCase(th *thehive.Client) Step[Mail] {
	return NewStep("find-case", func(ctx context.Context, m *Mail) error {
		if m.Case != nil {
			return nil
		}
		if n := m.Keys.CaseNumber; n > 0 {
			c, err := th.Cases.Get(ctx, thehive.CaseNumber(n))
			switch {
			case err == nil:
				m.Case = c
				return nil
			case !errors.Is(err, thehive.ErrNotFound):
				return fmt.Errorf("reading case #%d: %w", n, err)
			}
		}
		c, err := findCaseByKeys(ctx, th, m.Keys.lookup())
		if err != nil {
			return err
		}
		m.Case = c
		return nil
	})
}

// findCaseByKeys returns the best case tagged with any of keys, or nil.
func findCaseByKeys(ctx context.Context, th *thehive.Client, keys []string) (*thehive.Case, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	filters := make([]thehive.Filter, len(keys))
	for i, k := range keys {
		filters[i] = thehive.Eq("tags", k)
	}
	cases, err := th.Cases.Find(ctx, &thehive.Query{
		Filter: thehive.Or(filters...),
		Sort:   []thehive.Sort{thehive.Desc("_createdAt")},
		Limit:  20,
	})
	if err != nil {
		return nil, fmt.Errorf("looking for the thread's case: %w", err)
	}
	if len(cases) == 0 {
		return nil, nil
	}
	for i := range cases {
		if !cases[i].Closed() {
			return &cases[i], nil
		}
	}
	return &cases[0], nil
}

// OwnerOptions say who owns a new case.
type OwnerOptions struct {
	// Categories maps an Outlook category (or IMAP keyword) of the message
	// to a TheHive login. Categories are compared without regard to case.
	Categories map[string]string
	// CategoryIsLogin tries an unmapped category as a login itself, as the
	// original Synapse did (one category per analyst, named like the login).
	CategoryIsLogin bool
	// Fallback is the login used when no category names a valid user;
	// empty leaves new cases unassigned.
	Fallback string
}

// userCache remembers which logins are valid users, for a while.
type userCache struct {
	th  *thehive.Client
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]userEntry
}

type userEntry struct {
	ok      bool
	expires time.Time
}

// valid reports whether login is an unlocked user of the organisation.
func (c *userCache) valid(ctx context.Context, login string) (bool, error) {
	key := strings.ToLower(login)
	c.mu.Lock()
	e, hit := c.m[key]
	c.mu.Unlock()
	if hit && time.Now().Before(e.expires) {
		return e.ok, nil
	}
	u, err := c.th.Users.Get(ctx, thehive.UserID(login))
	ok := err == nil && !u.Locked
	if err != nil && !errors.Is(err, thehive.ErrNotFound) {
		return false, fmt.Errorf("checking user %q: %w", login, err)
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]userEntry)
	}
	c.m[key] = userEntry{ok: ok, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
	return ok, nil
}

// ResolveOwner chooses the owner of a new case: the user named by the
// message's first category that names a valid (existing, unlocked) TheHive
// user, else the fallback, validated the same way. Users are looked up once
// and remembered for ten minutes. It does nothing when the thread's case
// already exists: its owner stays.
func ResolveOwner(th *thehive.Client, opts OwnerOptions) Step[Mail] {
	users := &userCache{th: th, ttl: 10 * time.Minute}
	mapping := make(map[string]string, len(opts.Categories))
	for k, v := range opts.Categories {
		mapping[strings.ToLower(k)] = v
	}
	return NewStep("resolve-owner", func(ctx context.Context, m *Mail) error {
		if m.Case != nil {
			return nil
		}
		m.Owner = ""
		var candidates []string
		for _, cat := range m.Message.Categories {
			if login, ok := mapping[strings.ToLower(cat)]; ok {
				candidates = append(candidates, login)
			} else if opts.CategoryIsLogin {
				candidates = append(candidates, cat)
			}
		}
		if opts.Fallback != "" {
			candidates = append(candidates, opts.Fallback)
		}
		for _, login := range candidates {
			ok, err := users.valid(ctx, login)
			if err != nil {
				return err
			}
			if ok {
				m.Owner = login
				return nil
			}
		}
		return nil
	})
}

// CaseOptions are the defaults of the cases that mail pipelines create.
type CaseOptions struct {
	// Template is the name of a case template to create cases from.
	Template string
	// TitlePrefix is put before the thread subject in the title.
	TitlePrefix string
	// Tags are added to every case, besides the message keys.
	Tags []string
	// Severity, TLP and PAP default to the template's, else TheHive's
	// (medium, amber, amber).
	Severity thehive.Severity
	TLP      *thehive.TLP
	PAP      *thehive.PAP
	// CustomFields are set on every case.
	CustomFields thehive.CustomFields
	// TaskTitle is the communication task's title (default "Communication").
	TaskTitle string
}

func (o CaseOptions) taskTitle() string {
	if o.TaskTitle == "" {
		return "Communication"
	}
	return o.TaskTitle
}

// CreateCase creates the thread's case when FindThreadCase found none,
// titled after the thread subject, described with a summary of the message,
// tagged with the message's keys and assigned to Mail.Owner. When there is
// no template, the communication task is created with it, in the same call.
// When the case exists, CreateCase adds the message's keys to its tags, so
// that replies to this message find it too.
//
// A retried CreateCase first looks for a case a lost answer may have
// created, so a retry never makes a second case.
func CreateCase(th *thehive.Client, opts CaseOptions) Step[Mail] {
	return NewStep("create-case", func(ctx context.Context, m *Mail) error {
		if m.Case != nil {
			return tagCase(ctx, th, m)
		}
		if m.attempt("case") {
			c, err := findCaseByKeys(ctx, th, []string{m.Keys.Message})
			if err != nil {
				return err
			}
			if c != nil {
				m.Case, m.CaseCreated = c, true
				m.raise(Created)
				return nil
			}
		}
		now := time.Now()
		in := &thehive.CaseCreate{
			Title:        caseTitle(opts.TitlePrefix, m.Email),
			Description:  caseDescription(m),
			Template:     opts.Template,
			Severity:     opts.Severity,
			TLP:          opts.TLP,
			PAP:          opts.PAP,
			StartDate:    now,
			Tags:         append(slices.Clone(opts.Tags), m.Keys.Tags()...),
			Assignee:     m.Owner,
			CustomFields: opts.CustomFields,
		}
		if opts.Template == "" {
			in.Tasks = []thehive.TaskCreate{communicationTask(opts.taskTitle(), m.Owner, now)}
		}
		c, err := th.Cases.Create(ctx, in)
		if err != nil {
			return fmt.Errorf("creating the case: %w", err)
		}
		m.Case, m.CaseCreated = c, true
		m.raise(Created)
		return nil
	})
}

// tagCase adds the message's keys the existing case lacks.
func tagCase(ctx context.Context, th *thehive.Client, m *Mail) error {
	var missing []string
	for _, k := range m.Keys.Tags() {
		if !slices.Contains(m.Case.Tags, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := th.Cases.Update(ctx, m.Case.ID, &thehive.CaseUpdate{AddTags: missing}); err != nil {
		return fmt.Errorf("tagging case #%d with the message's keys: %w", m.Case.Number, err)
	}
	m.Case.Tags = append(m.Case.Tags, missing...)
	m.raise(Updated)
	return nil
}

func communicationTask(title, owner string, start time.Time) thehive.TaskCreate {
	return thehive.TaskCreate{
		Title:       title,
		Status:      thehive.TaskInProgress,
		StartDate:   start,
		Assignee:    owner,
		Description: "The emails of this case's thread, one log each, with the original message attached.",
	}
}

func caseTitle(prefix string, e *observable.Email) string {
	subject := strings.TrimSpace(e.ThreadSubject)
	if subject == "" {
		subject = "(no subject)"
	}
	title := strings.TrimSpace(prefix + " " + subject)
	return truncateRunes(title, 512)
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// EnsureTask finds the case's task titled opts.TaskTitle, or creates it,
// in progress, with a start date and the case's owner.
func EnsureTask(th *thehive.Client, opts CaseOptions) Step[Mail] {
	title := opts.taskTitle()
	return NewStep("ensure-task", func(ctx context.Context, m *Mail) error {
		if m.Task != nil {
			return nil
		}
		tasks, err := th.Cases.FindTasks(ctx, m.Case.ID, &thehive.Query{Filter: thehive.Eq("title", title), Limit: 1})
		if err != nil {
			return fmt.Errorf("looking for task %q: %w", title, err)
		}
		if len(tasks) > 0 {
			m.Task = &tasks[0]
			return nil
		}
		owner := m.Owner
		if owner == "" {
			owner = m.Case.Assignee
		}
		in := communicationTask(title, owner, time.Now())
		t, err := th.Tasks.Create(ctx, m.Case.ID, &in)
		if err != nil {
			return fmt.Errorf("creating task %q: %w", title, err)
		}
		m.Task = t
		return nil
	})
}
