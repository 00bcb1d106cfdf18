package thehivetest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// orgRec is an organisation.
type orgRec struct {
	base
	name           string
	description    string
	taskRule       string
	observableRule string
	locked         bool
}

func (o *orgRec) render(*store) map[string]any {
	m := o.common("Organisation")
	m["name"] = o.name
	m["description"] = o.description
	m["taskRule"] = o.taskRule
	m["observableRule"] = o.observableRule
	m["locked"] = o.locked
	m["links"] = []any{}
	return m
}

// org finds an organisation by id or name.
func (st *store) org(ref string) *orgRec {
	if o, ok := st.orgs.get(ref); ok {
		return o
	}
	for _, o := range st.orgs.byID {
		if o.name == ref {
			return o
		}
	}
	return nil
}

func (st *store) orgName(id string) string {
	if o, ok := st.orgs.get(id); ok {
		return o.name
	}
	return ""
}

// userRec is a user account and its memberships.
type userRec struct {
	base
	login       string
	name        string
	email       string
	typ         string
	password    string
	hasPassword bool
	apiKey      string
	locked      bool
	orgs        map[string]string // organisation id -> profile name
	defaultOrg  string            // organisation id
}

// render renders the user as seen from its default organisation; handlers
// use renderIn to render it as seen from the caller's organisation.
func (u *userRec) render(st *store) map[string]any { return u.renderIn(st, u.defaultOrg) }

func (u *userRec) renderIn(st *store, orgID string) map[string]any {
	if _, member := u.orgs[orgID]; !member {
		orgID = u.defaultOrg
	}
	m := u.common("")
	m["login"] = u.login
	m["name"] = u.name
	putStr(m, "email", u.email)
	m["hasKey"] = u.apiKey != ""
	m["hasPassword"] = u.hasPassword
	m["hasMFA"] = false
	m["locked"] = u.locked
	m["type"] = u.typ
	profile := u.orgs[orgID]
	m["profile"] = profile
	m["organisation"] = st.orgName(orgID)
	perms := []any{}
	if p := st.profile(profile); p != nil {
		perms = strList(p.permissions())
	}
	m["permissions"] = perms
	m["defaultOrganisation"] = st.orgName(u.defaultOrg)
	var orgs []any
	for _, id := range u.orgIDs(st) {
		orgs = append(orgs, map[string]any{
			"organisationId": id,
			"organisation":   st.orgName(id),
			"profile":        u.orgs[id],
		})
	}
	m["organisations"] = orgs
	return m
}

// orgIDs lists the user's organisations in creation order.
func (u *userRec) orgIDs(st *store) []string {
	ids := make([]string, 0, len(u.orgs))
	for id := range u.orgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := st.orgs.get(ids[i])
		b, _ := st.orgs.get(ids[j])
		if a == nil || b == nil {
			return ids[i] < ids[j]
		}
		return a.seq < b.seq
	})
	return ids
}

func (st *store) userByLogin(login string) *userRec {
	login = strings.ToLower(strings.TrimSpace(login))
	for _, u := range st.users.byID {
		if u.login == login {
			return u
		}
	}
	return nil
}

// user finds a user by id or login.
func (st *store) user(ref string) *userRec {
	if u, ok := st.users.get(ref); ok {
		return u
	}
	return st.userByLogin(ref)
}

// orgUser finds a user by id or login among the members of an organisation:
// the check TheHive makes for every assignee.
func (st *store) orgUser(ref, orgID string) *userRec {
	u := st.user(ref)
	if u == nil {
		return nil
	}
	if _, member := u.orgs[orgID]; !member {
		return nil
	}
	return u
}

// assigneeUpdate reads the "assignee" of an update: set is false when the
// update does not name one; login is the member of the organisation it
// names, or "" to unassign (null or an empty string). A user who is not a
// member is a 404.
func (c *call) assigneeUpdate(st *store, f fields) (login string, set bool, err error) {
	if !f.has("assignee") {
		return "", false, nil
	}
	if v, ok := f.str("assignee"); ok && v != "" {
		u := st.orgUser(v, c.orgID)
		if u == nil {
			return "", false, errNotFound("User")
		}
		return u.login, true, nil
	}
	return "", true, nil
}

func (st *store) profile(name string) *profileRec {
	for _, p := range st.profiles.byID {
		if p.name == name {
			return p
		}
	}
	if p, ok := st.profiles.get(name); ok {
		return p
	}
	return nil
}

// visibleUser is a user the caller may see: a member of the caller's
// organisation, or anyone for a platform administrator.
func (c *call) visibleUser(st *store, ref string) (*userRec, error) {
	u := st.user(ref)
	if u == nil {
		return nil, errNotFound("User")
	}
	if _, member := u.orgs[c.orgID]; member || c.perms["manageOrganisation"] && c.orgName == AdminOrganisation {
		return u, nil
	}
	return nil, errNotFound("User")
}

// managedUser is a user the caller may administer: a member of the
// caller's organisation when the caller has manageUser there.
func (c *call) managedUser(st *store, ref string) (*userRec, error) {
	u, err := c.visibleUser(st, ref)
	if err != nil {
		return nil, err
	}
	if !c.perms["manageUser"] {
		return nil, errNotFound("User")
	}
	return u, nil
}

func newAPIKey() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) userRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/v1/user/current", name: "current user", handle: s.currentUser},
		{method: "POST", pattern: "/api/v1/user", name: "create user", perm: "manageUser", handle: s.createUser},
		{method: "GET", pattern: "/api/v1/user/{id}", name: "get user", handle: s.getUser},
		{method: "PATCH", pattern: "/api/v1/user/{id}", name: "update user", handle: s.updateUser},
		{method: "DELETE", pattern: "/api/v1/user/{id}", name: "lock user", perm: "manageUser", handle: s.lockUser},
		{method: "DELETE", pattern: "/api/v1/user/{id}/force", name: "delete user", perm: "manageUser", handle: s.deleteUser},
		{method: "PUT", pattern: "/api/v1/user/{id}/organisations", name: "set organisations", perm: "manageUser", handle: s.setUserOrganisations},
		{method: "POST", pattern: "/api/v1/user/{id}/password/set", name: "set password", perm: "manageUser", handle: s.setPassword},
		{method: "POST", pattern: "/api/v1/user/{id}/password/change", name: "change password", handle: s.changePassword},
		{method: "GET", pattern: "/api/v1/user/{id}/key", name: "get key", perm: "manageUser", handle: s.getKey},
		{method: "DELETE", pattern: "/api/v1/user/{id}/key", name: "remove key", perm: "manageUser", handle: s.removeKey},
		{method: "POST", pattern: "/api/v1/user/{id}/key/renew", name: "renew key", perm: "manageUser", handle: s.renewKey},
		{method: "GET", pattern: "/api/v1/organisation/{id}", name: "get organisation", handle: s.getOrganisation},
		{method: "POST", pattern: "/api/v1/organisation", name: "create organisation", perm: "manageOrganisation", handle: s.createOrganisation},
		{method: "GET", pattern: "/api/v1/profile/{id}", name: "get profile", handle: s.getProfile},
		{method: "POST", pattern: "/api/v1/profile", name: "create profile", perm: "manageProfile", handle: s.createProfile},
		{method: "PATCH", pattern: "/api/v1/profile/{id}", name: "update profile", perm: "manageProfile", handle: s.updateProfile},
		{method: "DELETE", pattern: "/api/v1/profile/{id}", name: "delete profile", perm: "manageProfile", handle: s.deleteProfile},
	}
}

func (s *Server) currentUser(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		u := st.userByLogin(c.login)
		if u == nil {
			return reply{}, errNotFound("User")
		}
		return ok(u.renderIn(st, c.orgID)), nil
	})
}

func (s *Server) getUser(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		u, err := c.visibleUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		return ok(u.renderIn(st, c.orgID)), nil
	})
}

// createUser creates a user in the caller's organisation (or the one given).
// Creating a login that exists is not an error: TheHive answers the existing
// user.
func (s *Server) createUser(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	login := strings.ToLower(f.reqStr("login"))
	name := f.reqStr("name")
	profile := f.reqStr("profile")
	email, _ := f.str("email")
	password, hasPassword := f.str("password")
	orgRef, _ := f.str("organisation")
	typ, _ := f.enumStr("type", "Normal", "Service")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		org := st.org(c.orgID)
		if orgRef != "" {
			if org = st.org(orgRef); org == nil {
				return reply{}, errNotFoundName("Organisation", orgRef)
			}
		}
		p := st.profile(profile)
		if p == nil {
			return reply{}, errNotFoundName("Profile", profile)
		}
		if p.forAdmin != (org.name == AdminOrganisation) {
			return reply{}, errBadRequest("Profile %s cannot be used in organisation %s", profile, org.name)
		}
		if u := st.userByLogin(login); u != nil {
			if _, member := u.orgs[org.id]; !member {
				u.orgs[org.id] = p.name
				st.touch(u, c.login, c.now)
			}
			return created(u.renderIn(st, c.orgID)), nil
		}
		if typ == "" {
			typ = "Normal"
		}
		u := &userRec{
			base:  st.newBase(org.id, c.login, c.now),
			login: login, name: name, email: email, typ: typ,
			password: password, hasPassword: hasPassword,
			orgs:       map[string]string{org.id: p.name},
			defaultOrg: org.id,
		}
		st.users.put(u)
		st.refresh(u)
		return created(u.renderIn(st, c.orgID)), nil
	})
}

// updateUser changes a user's name, email, lock, type or profile in an
// organisation. Users may rename themselves; the rest needs manageUser.
func (s *Server) updateUser(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	name, hasName := f.str("name")
	email, hasEmail := f.str("email")
	locked, hasLocked := f.boolean("locked")
	profile, hasProfile := f.str("profile")
	orgRef, _ := f.str("organisation")
	defaultOrg, hasDefault := f.str("defaultOrganisation")
	typ, hasType := f.enumStr("type", "Normal", "Service")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		u, err := c.visibleUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		self := u.login == c.login
		if !self && !c.perms["manageUser"] || (hasLocked || hasProfile || hasType) && !c.perms["manageUser"] {
			return reply{}, errAuthorization("You are not permitted to update this user")
		}
		if hasName {
			u.name = name
		}
		if hasEmail {
			u.email = email
		}
		if hasLocked {
			u.locked = locked
		}
		if hasType {
			u.typ = typ
		}
		if hasProfile {
			org := st.org(c.orgID)
			if orgRef != "" {
				org = st.org(orgRef)
			}
			if org == nil {
				return reply{}, errNotFoundName("Organisation", orgRef)
			}
			p := st.profile(profile)
			if p == nil {
				return reply{}, errNotFoundName("Profile", profile)
			}
			u.orgs[org.id] = p.name
		}
		if hasDefault {
			org := st.org(defaultOrg)
			if org == nil {
				return reply{}, errNotFoundName("Organisation", defaultOrg)
			}
			if _, member := u.orgs[org.id]; !member {
				return reply{}, errBadRequest("User %s is not a member of %s", u.login, org.name)
			}
			u.defaultOrg = org.id
		}
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

// lockUser is DELETE /api/v1/user/{id}: TheHive locks the account.
func (s *Server) lockUser(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		u.locked = true
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

// deleteUser removes a user from an organisation (the caller's unless
// ?organisation= names another); a user left without organisation is gone.
func (s *Server) deleteUser(c *call) (reply, error) {
	orgRef := c.r.URL.Query().Get("organisation")
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		org := st.org(c.orgID)
		if orgRef != "" {
			if org = st.org(orgRef); org == nil {
				return reply{}, errNotFoundName("Organisation", orgRef)
			}
		}
		delete(u.orgs, org.id)
		if len(u.orgs) == 0 {
			st.users.remove(u.id)
			return noContent(), nil
		}
		if u.defaultOrg == org.id {
			u.defaultOrg = u.orgIDs(st)[0]
		}
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

// setUserOrganisations replaces a user's memberships and echoes them.
func (s *Server) setUserOrganisations(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	items, _ := f.objects("organisations")
	type membership struct {
		org, profile string
		def          bool
	}
	var list []membership
	for _, it := range items {
		m := membership{org: it.reqStr("organisation"), profile: it.reqStr("profile")}
		m.def, _ = it.boolean("default")
		list = append(list, m)
	}
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		orgs := map[string]string{}
		defaultOrg := ""
		echo := []any{}
		for _, m := range list {
			org := st.org(m.org)
			if org == nil {
				return reply{}, errNotFoundName("Organisation", m.org)
			}
			p := st.profile(m.profile)
			if p == nil {
				return reply{}, errNotFoundName("Profile", m.profile)
			}
			orgs[org.id] = p.name
			if m.def || defaultOrg == "" {
				defaultOrg = org.id
			}
			echo = append(echo, map[string]any{"organisation": org.name, "profile": p.name, "default": m.def})
		}
		if len(orgs) == 0 {
			return reply{}, errBadRequest("A user must belong to at least one organisation")
		}
		u.orgs, u.defaultOrg = orgs, defaultOrg
		st.touch(u, c.login, c.now)
		return ok(map[string]any{"organisations": echo}), nil
	})
}

func (s *Server) setPassword(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	password := f.reqStr("password")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		u.password, u.hasPassword = password, true
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

// changePassword lets the current user change their own password, given
// the current one.
func (s *Server) changePassword(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	password := f.reqStr("password")
	current := f.reqStr("currentPassword")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		u := st.user(c.param("id"))
		if u == nil || u.login != c.login {
			return reply{}, errNotFound("User")
		}
		if !u.hasPassword || u.password != current {
			return reply{}, errAuthorization("Authentication failure")
		}
		u.password = password
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) getKey(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		if u.apiKey == "" {
			return reply{}, errNotFoundName("User", u.login+" hasn't key")
		}
		return textReply(u.apiKey), nil
	})
}

func (s *Server) renewKey(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		u.apiKey = newAPIKey()
		st.touch(u, c.login, c.now)
		return textReply(u.apiKey), nil
	})
}

func (s *Server) removeKey(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		u, err := c.managedUser(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		u.apiKey = ""
		st.touch(u, c.login, c.now)
		return noContent(), nil
	})
}

func textReply(s string) reply {
	return reply{write: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(s))
	}}
}

func (s *Server) getOrganisation(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		o := st.org(c.param("id"))
		if o == nil || o.id != c.orgID && c.orgName != AdminOrganisation {
			return reply{}, errNotFound("Organisation")
		}
		return ok(o.view), nil
	})
}

func (s *Server) createOrganisation(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	name := f.reqStr("name")
	description := f.reqStr("description")
	taskRule, _ := f.str("taskRule")
	observableRule, _ := f.str("observableRule")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if c.orgName != AdminOrganisation {
			return reply{}, errAuthorization("Unauthorized action")
		}
		if st.org(name) != nil {
			return reply{}, errCreate("Organisation %s already exists", name)
		}
		o := st.newOrg(name, description, c.login, c.now)
		if taskRule != "" {
			o.taskRule = taskRule
		}
		if observableRule != "" {
			o.observableRule = observableRule
		}
		st.refresh(o)
		return created(o.view), nil
	})
}

func (st *store) newOrg(name, description, by string, now int64) *orgRec {
	o := &orgRec{base: st.newBase("", by, now), name: name, description: description, taskRule: "manual", observableRule: "manual"}
	o.orgID = o.id
	st.orgs.put(o)
	st.refresh(o)
	return o
}

func (s *Server) getProfile(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		p := st.profile(c.param("id"))
		if p == nil {
			return reply{}, errNotFound("Profile")
		}
		return ok(p.view), nil
	})
}

func (s *Server) createProfile(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	name := f.reqStr("name")
	perms, _ := f.strs("permissions")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if st.profile(name) != nil {
			return reply{}, errCreate("Profile %s already exists", name)
		}
		p := &profileRec{base: st.newBase("", c.login, c.now), name: name, perms: permSet(perms), editable: true}
		st.profiles.put(p)
		st.refresh(p)
		return created(p.view), nil
	})
}

func (s *Server) updateProfile(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	name, hasName := f.str("name")
	perms, hasPerms := f.strs("permissions")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		p := st.profile(c.param("id"))
		if p == nil {
			return reply{}, errNotFound("Profile")
		}
		if !p.editable {
			return reply{}, errBadRequest("Profile %s is not editable", p.name)
		}
		if hasName && name != p.name {
			if st.profile(name) != nil {
				return reply{}, errCreate("Profile %s already exists", name)
			}
			for _, u := range st.users.byID {
				for org, prof := range u.orgs {
					if prof == p.name {
						u.orgs[org] = name
					}
				}
			}
			p.name = name
		}
		if hasPerms {
			p.perms = permSet(perms)
		}
		st.touch(p, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) deleteProfile(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		p := st.profile(c.param("id"))
		if p == nil {
			return reply{}, errNotFound("Profile")
		}
		if !p.editable {
			return reply{}, errBadRequest("Profile %s cannot be removed", p.name)
		}
		for _, u := range st.users.byID {
			for _, prof := range u.orgs {
				if prof == p.name {
					return reply{}, errBadRequest("Profile %s is used", p.name)
				}
			}
		}
		st.profiles.remove(p.id)
		return noContent(), nil
	})
}
