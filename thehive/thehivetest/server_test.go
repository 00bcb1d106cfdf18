package thehivetest_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestStatusNeedsNoCredentials(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv).as("")
	for _, path := range []string{"/api/status", "/api/v1/status", "/api/v1/status/public"} {
		got := c.do("GET", path, nil).want(t, http.StatusOK).obj()
		versions, _ := got["versions"].(map[string]any)
		if versions["TheHive"] != thehivetest.Version {
			t.Errorf("GET %s: versions %v", path, versions)
		}
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithUser(thehivetest.User{Login: "locked@soc", Profile: "analyst", APIKey: "locked-key", Locked: true}),
		thehivetest.WithUser(thehivetest.User{Login: "analyst@soc", Profile: "analyst", Password: "pw", APIKey: "analyst-key"}),
	)
	tests := []struct {
		name   string
		auth   string
		org    string
		status int
		login  string
	}{
		{name: "no credentials", status: http.StatusUnauthorized},
		{name: "bad API key", auth: "Bearer nope", status: http.StatusUnauthorized},
		{name: "empty bearer", auth: "Bearer ", status: http.StatusUnauthorized},
		{name: "unknown scheme", auth: "Token " + thehivetest.APIKey, status: http.StatusUnauthorized},
		{name: "wrong password", auth: basic(thehivetest.AdminLogin, "wrong"), status: http.StatusUnauthorized},
		{name: "unknown user", auth: basic("ghost@soc", "secret"), status: http.StatusUnauthorized},
		{name: "malformed basic", auth: "Basic !!!", status: http.StatusUnauthorized},
		{name: "locked account", auth: "Bearer locked-key", status: http.StatusUnauthorized},
		{name: "organisation the user is not in", auth: "Bearer analyst-key", org: thehivetest.AdminOrganisation, status: http.StatusUnauthorized},
		{name: "unknown organisation", auth: "Bearer " + thehivetest.APIKey, org: "nowhere", status: http.StatusUnauthorized},
		{name: "admin API key", auth: "Bearer " + thehivetest.APIKey, status: http.StatusOK, login: thehivetest.AdminLogin},
		{name: "admin basic", auth: basic(thehivetest.AdminLogin, thehivetest.AdminPassword), status: http.StatusOK, login: thehivetest.AdminLogin},
		{name: "login is case-insensitive", auth: basic("Admin@TheHive.local", thehivetest.AdminPassword), status: http.StatusOK, login: thehivetest.AdminLogin},
		{name: "user key", auth: "Bearer analyst-key", status: http.StatusOK, login: "analyst@soc"},
		{name: "user password", auth: basic("analyst@soc", "pw"), org: thehivetest.Organisation, status: http.StatusOK, login: "analyst@soc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv).as(tt.auth).in(tt.org)
			r := c.do("GET", "/api/v1/user/current", nil)
			if tt.status != http.StatusOK {
				r.wantError(t, tt.status, "AuthenticationError", "Authentication failure")
				return
			}
			if got := r.want(t, tt.status).obj()["login"]; got != tt.login {
				t.Errorf("login %v, want %s", got, tt.login)
			}
		})
	}
}

func TestOrganisationHeaderSelectsProfile(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	main := c.do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK).obj()
	admin := c.in(thehivetest.AdminOrganisation).do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK).obj()
	got := [][2]any{{main["organisation"], main["profile"]}, {admin["organisation"], admin["profile"]}}
	want := [][2]any{{thehivetest.Organisation, "org-admin"}, {thehivetest.AdminOrganisation, "admin"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("organisation and profile (-want +got):\n%s", d)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithUser(thehivetest.User{Login: "reader@soc", Profile: "read-only", APIKey: "reader-key"}),
		thehivetest.WithUser(thehivetest.User{Login: "analyst@soc", Profile: "analyst", APIKey: "analyst-key"}),
	)
	admin := newClient(t, srv)
	cs := createCase(t, admin, map[string]any{})
	tests := []struct {
		name, key, method, path, perm string
		body                          any
	}{
		{name: "read-only cannot create a case", key: "reader-key", method: "POST", path: "/api/v1/case",
			body: map[string]any{"title": "x", "description": "y"}, perm: "create case, you haven't the permission manageCase/create"},
		{name: "analyst cannot delete a case", key: "analyst-key", method: "DELETE", path: "/api/v1/case/" + id(cs),
			perm: "delete case, you haven't the permission manageCase/delete"},
		{name: "cases are not managed from the admin organisation", key: thehivetest.APIKey, method: "POST", path: "/api/v1/case",
			body: map[string]any{"title": "x", "description": "y"}, perm: "create case, you haven't the permission manageCase/create"},
		{name: "custom fields are managed from the admin organisation", key: thehivetest.APIKey, method: "POST", path: "/api/v1/customField",
			body: map[string]any{"name": "f", "group": "g", "description": "d", "type": "string"}, perm: "create custom field, you haven't the permission manageCustomField"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv).as("Bearer " + tt.key)
			if tt.name == "cases are not managed from the admin organisation" {
				c = c.in(thehivetest.AdminOrganisation)
			}
			c.do(tt.method, tt.path, tt.body).wantError(t, http.StatusForbidden, "AuthorizationError", "Your are not authorized to "+tt.perm)
		})
	}
	// The analyst may still read and update.
	analyst := admin.as("Bearer analyst-key")
	analyst.do("GET", "/api/v1/case/"+id(cs), nil).want(t, http.StatusOK)
	analyst.do("PATCH", "/api/v1/case/"+id(cs), map[string]any{"severity": 3}).want(t, http.StatusNoContent)
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	c.do("GET", "/api/v1/alert/~1/observable", nil).wantError(t, http.StatusNotFound, "NotFoundError", "/api/v1/alert/~1/observable")
	c.do("GET", "/api/v1/nothing", nil).wantError(t, http.StatusNotFound, "NotFoundError", "/api/v1/nothing")
	if got := srv.Requests("GET /api/v1/nothing"); got != 1 {
		t.Errorf("unmatched requests counted %d times, want 1", got)
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	c.do("GET", "/api/v1/case/"+id(cs), nil).want(t, http.StatusOK)
	c.do("GET", "/api/v1/case/1", nil).want(t, http.StatusOK)
	query(c, map[string]any{"_name": "listCase"}).want(t, http.StatusOK)
	want := map[string]int{"POST /api/v1/case": 1, "GET /api/v1/case/{id}": 2, "POST /api/v1/query": 1}
	if d := cmp.Diff(want, srv.RequestCounts()); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
	if got := srv.Requests("GET /api/v1/case/{id}"); got != 2 {
		t.Errorf("Requests = %d, want 2", got)
	}
	routes := srv.Routes()
	for _, r := range []string{"POST /api/v1/case", "GET /api/v1/case/{id}", "POST /api/v1/query", "POST /api/connector/cortex/job"} {
		if !slices.Contains(routes, r) {
			t.Errorf("Routes() lacks %q", r)
		}
	}
}

func TestInvalidOptionsFailStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  thehivetest.Option
	}{
		{"unknown profile", thehivetest.WithUser(thehivetest.User{Login: "x@soc", Profile: "boss"})},
		{"admin profile outside the admin organisation", thehivetest.WithUser(thehivetest.User{Login: "x@soc", Profile: "admin"})},
		{"duplicate login", thehivetest.WithUser(thehivetest.User{Login: thehivetest.AdminLogin})},
		{"unknown custom field type", thehivetest.WithCustomField(thehivetest.CustomField{Name: "f", Type: "color"})},
		{"template with unknown custom field", thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{Name: "t", CustomFields: map[string]any{"nope": 1}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := thehivetest.New(tt.opt)
			defer srv.Close()
			if err := srv.Start("127.0.0.1:0"); err == nil {
				t.Fatal("Start succeeded")
			}
		})
	}
}

func TestAddUserAfterStart(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	if err := srv.AddUser(thehivetest.User{Login: "late@soc", Profile: "analyst", APIKey: "late-key"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddUser(thehivetest.User{Login: "late@soc"}); err == nil {
		t.Error("adding the same login twice succeeded")
	}
	got := newClient(t, srv).as("Bearer late-key").do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK).obj()
	if got["login"] != "late@soc" || got["profile"] != "analyst" || got["hasPassword"] != true {
		t.Errorf("user %v", got)
	}
}
