package thehivetest

import (
	"errors"
	"fmt"
	"strings"
)

// builtinObservableTypes are TheHive's data types; only "file" holds an
// attachment.
var builtinObservableTypes = []string{
	"autonomous-system", "domain", "file", "filename", "fqdn", "hash", "hostname", "ip",
	"mail", "mail-subject", "other", "regexp", "registry", "uri_path", "url", "user-agent",
}

// seed builds the initial store: the admin and main organisations, the
// built-in profiles, users and observable types, then what the options add.
// A problem with an option is kept for seedErr.
func (s *Server) seed() *store {
	st, err := newStore(s.cfg, s.now())
	s.seedProblem = err
	return st
}

func (s *Server) seedErr() error { return s.seedProblem }

func newStore(cfg config, now int64) (*store, error) {
	st := &store{keepBytes: cfg.keepBytes, caseNumbers: map[string]int64{}, analyzers: cfg.analyzers}
	admin := st.newOrg(AdminOrganisation, "organisation for administration", SystemLogin, now)
	main := st.newOrg(Organisation, "main organisation", SystemLogin, now)
	for _, p := range []struct {
		name     string
		perms    []string
		forAdmin bool
	}{
		{"admin", adminPermissions, true},
		{"org-admin", orgAdminPermissions, false},
		{"analyst", analystPermissions, false},
		{"read-only", nil, false},
	} {
		rec := &profileRec{base: st.newBase("", SystemLogin, now), name: p.name, perms: permSet(p.perms), forAdmin: p.forAdmin}
		st.profiles.put(rec)
		st.refresh(rec)
	}
	for _, name := range builtinObservableTypes {
		t := &observableTypeRec{base: st.newBase("", SystemLogin, now), name: name, isAttachment: name == "file"}
		st.observableTypes.put(t)
		st.refresh(t)
	}
	root := &userRec{
		base:  st.newBase(main.id, SystemLogin, now),
		login: AdminLogin, name: "Administrator", typ: "Normal",
		password: AdminPassword, hasPassword: true, apiKey: APIKey,
		orgs:       map[string]string{admin.id: "admin", main.id: "org-admin"},
		defaultOrg: main.id,
	}
	st.users.put(root)
	st.refresh(root)

	var errs []error
	for _, u := range cfg.users {
		if err := st.addUser(u, now); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range cfg.customFields {
		if err := st.addCustomField(f, now); err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range cfg.templates {
		if err := st.addTemplate(t, now); err != nil {
			errs = append(errs, err)
		}
	}
	return st, errors.Join(errs...)
}

// AddUser adds a user account; see User.
func (s *Server) AddUser(u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addUser(u, s.now())
}

// AddCustomField adds a custom field definition.
func (s *Server) AddCustomField(f CustomField) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addCustomField(f, s.now())
}

// AddCaseTemplate adds a case template to Organisation.
func (s *Server) AddCaseTemplate(t CaseTemplate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addTemplate(t, s.now())
}

func (st *store) addUser(u User, now int64) error {
	login := strings.ToLower(strings.TrimSpace(u.Login))
	if login == "" {
		return errors.New("thehivetest: user without login")
	}
	if st.userByLogin(login) != nil {
		return fmt.Errorf("thehivetest: user %s already exists", login)
	}
	orgName := u.Organisation
	if orgName == "" {
		orgName = Organisation
	}
	org := st.org(orgName)
	if org == nil {
		return fmt.Errorf("thehivetest: user %s: unknown organisation %q", login, orgName)
	}
	profile := u.Profile
	if profile == "" {
		profile = "analyst"
	}
	p := st.profile(profile)
	if p == nil {
		return fmt.Errorf("thehivetest: user %s: unknown profile %q", login, profile)
	}
	if p.forAdmin != (org.name == AdminOrganisation) {
		return fmt.Errorf("thehivetest: user %s: profile %q cannot be used in organisation %q", login, profile, org.name)
	}
	if u.APIKey != "" {
		for _, other := range st.users.byID {
			if other.apiKey == u.APIKey {
				return fmt.Errorf("thehivetest: user %s: API key already used by another user", login)
			}
		}
	}
	name := u.Name
	if name == "" {
		name = login
	}
	password := u.Password
	if password == "" {
		password = AdminPassword
	}
	rec := &userRec{
		base:  st.newBase(org.id, AdminLogin, now),
		login: login, name: name, email: u.Email, typ: "Normal",
		password: password, hasPassword: true, apiKey: u.APIKey, locked: u.Locked,
		orgs:       map[string]string{org.id: p.name},
		defaultOrg: org.id,
	}
	st.users.put(rec)
	st.refresh(rec)
	return nil
}
