package thehivetest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	body := map[string]any{"login": "bailando@sin.ti", "name": "Bailando", "profile": "analyst"}
	created := c.do("POST", "/api/v1/user", body).want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_createdBy": thehivetest.AdminLogin, "login": "bailando@sin.ti", "name": "Bailando",
		"hasKey": false, "hasPassword": false, "hasMFA": false, "locked": false, "type": "Normal",
		"profile": "analyst", "organisation": thehivetest.Organisation, "defaultOrganisation": thehivetest.Organisation,
		"extraData": map[string]any{},
	}
	if d := cmp.Diff(want, created, dynamic, ignoreKey("permissions"), ignoreKey("organisations")); d != "" {
		t.Errorf("user (-want +got):\n%s", d)
	}
	// Creating the same login again answers the same user.
	if d := cmp.Diff(created, c.do("POST", "/api/v1/user", body).want(t, http.StatusCreated).obj()); d != "" {
		t.Errorf("second creation (-first +second):\n%s", d)
	}
	for _, ref := range []string{id(created), "bailando@sin.ti"} {
		if d := cmp.Diff(created, c.do("GET", "/api/v1/user/"+ref, nil).want(t, http.StatusOK).obj()); d != "" {
			t.Errorf("GET %s (-created +fetched):\n%s", ref, d)
		}
	}
	c.do("POST", "/api/v1/user", map[string]any{"login": "x@y"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError",
		"[Attribute name is missing][Attribute profile is missing]")
	c.do("POST", "/api/v1/user", map[string]any{"login": "x@y", "name": "x", "profile": "boss"}).wantError(t, http.StatusNotFound, "NotFoundError", "Profile boss not found")
	c.do("GET", "/api/v1/user/ghost@soc", nil).wantError(t, http.StatusNotFound, "NotFoundError", "User not found")
}

func TestUpdateLockAndDeleteUser(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "user@example.com", Profile: "analyst", APIKey: "user-key"}))
	c := newClient(t, srv)
	path := "/api/v1/user/user@example.com"
	c.do("PATCH", path, map[string]any{"name": "Updated user", "profile": "read-only", "email": "whatever@example.com", "organisation": thehivetest.Organisation}).
		want(t, http.StatusNoContent)
	got := c.do("GET", path, nil).obj()
	for k, v := range map[string]any{"name": "Updated user", "profile": "read-only", "email": "whatever@example.com", "organisation": thehivetest.Organisation} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// A user may rename themself but not change their profile.
	self := c.as("Bearer user-key")
	self.do("PATCH", path, map[string]any{"name": "me"}).want(t, http.StatusNoContent)
	self.do("PATCH", path, map[string]any{"profile": "org-admin"}).wantError(t, http.StatusForbidden, "AuthorizationError", "You are not permitted to update this user")

	c.do("PATCH", path, map[string]any{"locked": true}).want(t, http.StatusNoContent)
	self.do("GET", "/api/v1/user/current", nil).wantError(t, http.StatusUnauthorized, "AuthenticationError", "")
	c.do("PATCH", path, map[string]any{"locked": false}).want(t, http.StatusNoContent)
	self.do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK)
	c.do("DELETE", path, nil).want(t, http.StatusNoContent) // DELETE without /force locks
	if c.do("GET", path, nil).obj()["locked"] != true {
		t.Error("DELETE did not lock the user")
	}
	c.do("DELETE", path+"/force?organisation="+thehivetest.Organisation, nil).want(t, http.StatusNoContent)
	c.do("GET", path, nil).wantError(t, http.StatusNotFound, "NotFoundError", "User not found")
}

func TestPasswordsAndKeys(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	u := c.do("POST", "/api/v1/user", map[string]any{"login": "user@example.com", "name": "u", "profile": "analyst"}).want(t, http.StatusCreated).obj()
	path := "/api/v1/user/" + id(u)
	c.as(basic("user@example.com", "")).do("GET", "/api/v1/user/current", nil).want(t, http.StatusUnauthorized)
	c.do("POST", path+"/password/set", map[string]any{"password": "super-secruht!"}).want(t, http.StatusNoContent)
	user := c.as(basic("user@example.com", "super-secruht!"))
	if got := user.do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK).obj(); got["hasPassword"] != true {
		t.Errorf("user %v", got)
	}
	user.do("POST", "/api/v1/user/user@example.com/password/change", map[string]any{"password": "new", "currentPassword": "wrong"}).
		wantError(t, http.StatusForbidden, "AuthorizationError", "Authentication failure")
	user.do("POST", "/api/v1/user/user@example.com/password/change", map[string]any{"password": "new", "currentPassword": "super-secruht!"}).
		want(t, http.StatusNoContent)
	user.do("GET", "/api/v1/user/current", nil).wantError(t, http.StatusUnauthorized, "AuthenticationError", "Authentication failure")
	c.as(basic("user@example.com", "new")).do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK)
	// Only the current user changes their own password.
	c.do("POST", path+"/password/change", map[string]any{"password": "x", "currentPassword": "new"}).want(t, http.StatusNotFound)

	c.do("GET", path+"/key", nil).wantError(t, http.StatusNotFound, "NotFoundError", "User user@example.com hasn't key not found")
	key := string(c.do("POST", path+"/key/renew", nil).want(t, http.StatusOK).raw)
	if got := string(c.do("GET", path+"/key", nil).want(t, http.StatusOK).raw); got != key || key == "" {
		t.Errorf("key %q, renewed %q", got, key)
	}
	if got := c.as("Bearer "+key).do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK).obj(); got["login"] != "user@example.com" || got["hasKey"] != true {
		t.Errorf("user %v", got)
	}
	c.do("DELETE", path+"/key", nil).want(t, http.StatusNoContent)
	c.as("Bearer "+key).do("GET", "/api/v1/user/current", nil).want(t, http.StatusUnauthorized)
	if c.do("GET", path, nil).obj()["hasKey"] != false {
		t.Error("hasKey after removal")
	}
}

func TestSetOrganisationsEchoes(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "user@example.com", Profile: "analyst"}))
	admin := newClient(t, srv).in(thehivetest.AdminOrganisation)
	orgs := []any{
		map[string]any{"default": true, "organisation": thehivetest.Organisation, "profile": "analyst"},
		map[string]any{"default": false, "organisation": thehivetest.AdminOrganisation, "profile": "admin"},
	}
	got := admin.do("PUT", "/api/v1/user/user@example.com/organisations", map[string]any{"organisations": orgs}).want(t, http.StatusOK).obj()
	if d := cmp.Diff(map[string]any{"organisations": orgs}, got); d != "" {
		t.Errorf("echo (-want +got):\n%s", d)
	}
	u := admin.do("GET", "/api/v1/user/user@example.com", nil).obj()
	if u["profile"] != "admin" || u["defaultOrganisation"] != thehivetest.Organisation {
		t.Errorf("user in the admin organisation %v", u)
	}
}

func TestOrganisationsAndProfiles(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	admin := newClient(t, srv).in(thehivetest.AdminOrganisation)
	if got := admin.do("GET", "/api/v1/organisation/"+thehivetest.Organisation, nil).want(t, http.StatusOK).obj(); got["name"] != thehivetest.Organisation || got["_type"] != "Organisation" {
		t.Errorf("organisation %v", got)
	}
	found := query(admin, map[string]any{"_name": "listOrganisation"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "name", "_value": thehivetest.Organisation}}).list()
	if len(found) != 1 {
		t.Errorf("found %v", found)
	}
	admin.do("POST", "/api/v1/organisation", map[string]any{"name": thehivetest.Organisation, "description": "d"}).wantError(t, http.StatusBadRequest, "CreateError", "")
	p := admin.do("POST", "/api/v1/profile", map[string]any{"name": "my-read-only", "permissions": []any{}}).want(t, http.StatusCreated).obj()
	if d := cmp.Diff(p, admin.do("GET", "/api/v1/profile/"+id(p), nil).want(t, http.StatusOK).obj()); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	admin.do("PATCH", "/api/v1/profile/"+id(p), map[string]any{"name": "renamed", "permissions": []any{"manageCase/create", "manageAlert/create"}}).want(t, http.StatusNoContent)
	got := admin.do("GET", "/api/v1/profile/"+id(p), nil).obj()
	if got["name"] != "renamed" || cmp.Diff([]any{"manageAlert/create", "manageCase/create"}, got["permissions"]) != "" {
		t.Errorf("profile %v", got)
	}
	admin.do("DELETE", "/api/v1/profile/"+id(p), nil).want(t, http.StatusNoContent)
	admin.do("GET", "/api/v1/profile/"+id(p), nil).want(t, http.StatusNotFound)
	admin.do("DELETE", "/api/v1/profile/analyst", nil).wantError(t, http.StatusBadRequest, "BadRequest", "")
}
