package thehivetest

import (
	"crypto/subtle"
	"encoding/base64"
	"sort"
	"strings"
)

// Permissions of TheHive 5's built-in profiles. The admin profile is the
// platform's (it only exists in the admin organisation); the others apply in
// ordinary organisations.
var (
	adminPermissions = []string{
		"manageAnalyzerTemplate", "manageConfig", "manageCustomField", "manageObservableTemplate",
		"manageOrganisation", "managePattern", "managePlatform", "manageProfile", "manageTaxonomy", "manageUser",
	}
	analystPermissions = []string{
		"manageAction", "manageAlert/create", "manageAlert/import", "manageAlert/update", "manageAnalyse",
		"manageCase/create", "manageCase/update", "manageComment", "manageObservable", "managePage",
		"manageProcedure", "manageShare", "manageTask", "accessTheHiveFS",
	}
	orgAdminPermissions = append([]string{
		"manageAlert/delete", "manageAlert/reopen", "manageCase/changeOwnership", "manageCase/delete",
		"manageCase/merge", "manageCase/reopen", "manageCaseTemplate", "manageOrganisation",
		"managePageTemplate", "manageTag", "manageUser",
	}, analystPermissions...)
)

// profileRec is a permission profile.
type profileRec struct {
	base
	name     string
	perms    map[string]bool // replaced, never modified, when the profile changes
	forAdmin bool
	editable bool
}

func (p *profileRec) permissions() []string {
	out := make([]string, 0, len(p.perms))
	for k := range p.perms {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *profileRec) render(*store) map[string]any {
	m := p.common("Profile")
	m["name"] = p.name
	m["permissions"] = strList(p.permissions())
	m["editable"] = p.editable
	m["forAdmin"] = p.forAdmin
	m["forOrg"] = !p.forAdmin
	m["consumesLicense"] = len(p.perms) > 0
	delete(m, "extraData")
	return m
}

func permSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, p := range list {
		m[p] = true
	}
	return m
}

// authenticate identifies the caller from the Authorization header (a
// Bearer API key or Basic login and password) and picks the organisation
// named by X-Organisation, or the caller's default one. Any failure is
// TheHive's 401 AuthenticationError "Authentication failure".
func (s *Server) authenticate(c *call) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	u := st.credentials(c.r.Header.Get("Authorization"))
	if u == nil || u.locked {
		return errAuthentication()
	}
	orgRef := strings.TrimSpace(c.r.Header.Get("X-Organisation"))
	var org *orgRec
	if orgRef == "" {
		org, _ = st.orgs.get(u.defaultOrg)
	} else {
		org = st.org(orgRef)
	}
	if org == nil {
		return errAuthentication()
	}
	profileName, member := u.orgs[org.id]
	if !member {
		return errAuthentication()
	}
	c.login = u.login
	c.orgName, c.orgID = org.name, org.id
	if p := st.profile(profileName); p != nil {
		c.perms = p.perms
	}
	return nil
}

// credentials returns the user an Authorization header authenticates, or
// nil.
func (st *store) credentials(header string) *userRec {
	scheme, value, _ := strings.Cut(strings.TrimSpace(header), " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "bearer":
		if value == "" {
			return nil
		}
		for _, u := range st.users.byID {
			if u.apiKey != "" && subtle.ConstantTimeCompare([]byte(u.apiKey), []byte(value)) == 1 {
				return u
			}
		}
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return nil
		}
		login, password, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil
		}
		u := st.userByLogin(login)
		if u == nil || !u.hasPassword {
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) != 1 {
			return nil
		}
		return u
	}
	return nil
}
