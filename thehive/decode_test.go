package thehive_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/synapse-go/synapse/thehive"
)

func TestDecodeCase(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, caseJSON))
	c := newClient(t, ps.URL+basePath)
	got, err := c.Cases.Get(ctx(t), "~4104")
	if err != nil {
		t.Fatal(record(err))
	}
	want := &thehive.Case{
		ID: "~4104", CreatedBy: "admin@thehive.local", CreatedAt: t0, Number: 7,
		Title: "Phishing", Description: "Reported by a user", Severity: thehive.SeverityHigh, StartDate: t0,
		Tags: []string{"phishing"}, TLP: thehive.TLPAmber, PAP: thehive.PAPAmber,
		Status: thehive.CaseStatusNew, Stage: thehive.StageNew, Assignee: "analyst@soc",
		CustomFields: []thehive.CustomFieldValue{{ID: "~9", Name: "synapse-thread", Type: "string", Value: "AAQkAD"}},
		ExtraData:    map[string]any{}, NewDate: t0,
	}
	if diff := cmp.Diff(want, got, cmpTime); diff != "" {
		t.Errorf("case (-want +got):\n%s", diff)
	}
	if v, ok := got.CustomField("synapse-thread"); !ok || v.String() != "AAQkAD" {
		t.Errorf("CustomField = %v, %v", v, ok)
	}
	if _, ok := got.CustomField("nope"); ok {
		t.Error("CustomField found a missing field")
	}
	if got.Closed() {
		t.Error("a New case is closed")
	}
}

func TestDecodeEntities(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t,
		ok(200, alertJSON), ok(200, fileObservableJSON), ok(200, taskJSON), ok(200, list(commentJSON)),
		ok(200, userJSON), ok(200, jobJSON), ok(200, templateJSON), ok(200, observableTypeJSON),
		ok(200, list(customFieldJSON)), ok(200, analyzersJSON))
	c := newClient(t, ps.URL+basePath)
	ctx := ctx(t)

	a, err := c.Alerts.Get(ctx, "~8200")
	if err != nil {
		t.Fatal(record(err))
	}
	wantAlert := &thehive.Alert{
		ID: "~8200", CreatedBy: "admin@thehive.local", CreatedAt: t0, Type: "external", Source: "QRadar_Offenses",
		SourceRef: "211", Title: "Offense 211", Description: "d", Severity: thehive.SeverityMedium, Date: t0,
		TLP: thehive.TLPAmber, PAP: thehive.PAPAmber, Follow: true, CustomFields: []thehive.CustomFieldValue{},
		ObservableCount: 1, Status: thehive.AlertStatusNew, Stage: thehive.StageNew, ExtraData: map[string]any{}, NewDate: t0,
	}
	if diff := cmp.Diff(wantAlert, a, cmpTime); diff != "" {
		t.Errorf("alert (-want +got):\n%s", diff)
	}

	o, err := c.Observables.Get(ctx, "~301")
	if err != nil {
		t.Fatal(record(err))
	}
	wantObs := &thehive.Observable{
		ID: "~301", CreatedBy: "admin@thehive.local", CreatedAt: t0, DataType: "file", StartDate: t0,
		TLP: thehive.TLPAmber, PAP: thehive.PAPAmber, Reports: map[string]json.RawMessage{}, ExtraData: map[string]any{},
		Attachment: &thehive.Attachment{ID: "~302", CreatedBy: "admin@thehive.local", CreatedAt: t0, Name: "mail.eml",
			Hashes: []string{"aa", "bb", "cc"}, Size: 11, ContentType: "message/rfc822", StorageID: "aa"},
	}
	if diff := cmp.Diff(wantObs, o, cmpTime); diff != "" {
		t.Errorf("observable (-want +got):\n%s", diff)
	}

	task, err := c.Tasks.Get(ctx, "~500")
	if err != nil {
		t.Fatal(record(err))
	}
	wantTask := &thehive.Task{ID: "~500", CreatedBy: "admin@thehive.local", CreatedAt: t0, Title: "Communication",
		Group: "default", Status: thehive.TaskInProgress, StartDate: t0.Add(time.Second), ExtraData: map[string]any{}}
	if diff := cmp.Diff(wantTask, task, cmpTime); diff != "" {
		t.Errorf("task (-want +got):\n%s", diff)
	}

	cm, err := c.Comments.Get(ctx, "~700")
	if err != nil {
		t.Fatal(record(err))
	}
	if cm.CreatedBy != "admin@thehive.local" || !cm.CreatedAt.Equal(t0) || cm.Message != "looked at it" {
		t.Errorf("comment %+v: createdBy/createdAt have no underscore in comments", cm)
	}

	u, err := c.Users.Get(ctx, "analyst@soc")
	if err != nil {
		t.Fatal(record(err))
	}
	if u.Login != "analyst@soc" || u.Profile != "analyst" || !u.HasKey || !u.CreatedAt.Equal(t0) {
		t.Errorf("user %+v", u)
	}

	j, err := c.Cortex.GetJob(ctx, "~970")
	if err != nil {
		t.Fatal(record(err))
	}
	if j.Status != thehive.JobSuccess || !j.Status.Done() || j.EndDate.Sub(j.StartDate) != 5*time.Second ||
		string(j.Report) != `{"success":true,"full":{}}` {
		t.Errorf("job %+v", j)
	}

	tpl, err := c.CaseTemplates.Get(ctx, "Phishing")
	if err != nil {
		t.Fatal(record(err))
	}
	if tpl.TitlePrefix != "[PHISH]" || tpl.TLP == nil || *tpl.TLP != thehive.TLPGreen || tpl.Severity != thehive.SeverityHigh {
		t.Errorf("template %+v", tpl)
	}

	ot, err := c.ObservableTypes.Get(ctx, "ip")
	if err != nil || ot.Name != "ip" || ot.IsAttachment {
		t.Errorf("observable type %+v, %v", ot, record(err))
	}

	cfs, err := c.CustomFields.List(ctx)
	if err != nil || len(cfs) != 1 || cfs[0].Type != thehive.FieldString || cfs[0].DisplayName != "Thread" {
		t.Errorf("custom fields %+v, %v", cfs, record(err))
	}

	an, err := c.Cortex.ListAnalyzers(ctx)
	if err != nil || len(an) != 1 || an[0].ID != "abuse_finder_3_0" || len(an[0].DataTypes) != 2 {
		t.Errorf("analyzers %+v, %v", an, record(err))
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, "42"), ok(200, `"many"`))
	c := newClient(t, ps.URL+basePath)
	n, err := c.Cases.Count(ctx(t), thehive.Filter{})
	if err != nil || n != 42 {
		t.Fatalf("Count = %d, %v", n, record(err))
	}
	if _, err := c.Cases.Count(ctx(t), thehive.Filter{}); record(err) == nil {
		t.Fatal("a count answered with a string was accepted")
	}
}

func TestGetterQueryNotFound(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, "[]"))
	c := newClient(t, ps.URL+basePath)
	_, err := c.TaskLogs.Get(ctx(t), "~1")
	errIs(t, err, thehive.ErrNotFound)
	_, err = c.Comments.Get(ctx(t), "~1")
	errIs(t, err, thehive.ErrNotFound)
}

func TestGetBySourceRef(t *testing.T) {
	t.Parallel()
	other := strings.Replace(alertJSON, `"sourceRef":"211"`, `"sourceRef":"2110"`, 1)
	ps := newPinServer(t, ok(200, list(other, alertJSON)), ok(200, list(other)))
	c := newClient(t, ps.URL+basePath)
	a, err := c.Alerts.GetBySourceRef(ctx(t), "external", "QRadar_Offenses", "211")
	if err != nil || a.SourceRef != "211" {
		t.Fatalf("GetBySourceRef = %+v, %v", a, record(err))
	}
	_, err = c.Alerts.GetBySourceRef(ctx(t), "external", "QRadar_Offenses", "211")
	errIs(t, err, thehive.ErrNotFound)
}

func TestPartialCreation(t *testing.T) {
	t.Parallel()
	dup := `{"type":"CreateError","message":"Observable already exists","object":{"data":"10.0.0.2"}}`
	bad := `{"type":"BadRequest","message":"Invalid data","object":{"data":"x"}}`
	ps := newPinServer(t,
		ok(207, `{"success":[`+observableJSON+`],"failure":[`+dup+`]}`),
		ok(207, `{"success":[],"failure":[`+dup+`,`+bad+`]}`),
		ok(201, observableJSON),
	)
	c := newClient(t, ps.URL+basePath)
	in := &thehive.ObservableCreate{DataType: "ip", Data: []string{"10.0.0.1", "10.0.0.2"}}

	obs, err := c.Observables.AddToCase(ctx(t), "~1", in)
	if len(obs) != 1 || obs[0].Data != "10.0.0.1" {
		t.Fatalf("created %+v", obs)
	}
	errIs(t, err, thehive.ErrDuplicate)
	errIs(t, err, thehive.ErrConflict)
	var pe *thehive.PartialError
	if !errors.As(err, &pe) || len(pe.Failures) != 1 || !pe.Failures[0].Duplicate() || string(pe.Failures[0].Object) != `{"data":"10.0.0.2"}` {
		t.Fatalf("partial error %#v", err)
	}

	_, err = c.Observables.AddToCase(ctx(t), "~1", in)
	record(err)
	if !errors.As(err, &pe) || errors.Is(err, thehive.ErrDuplicate) {
		t.Fatalf("a failure other than a duplicate must not match ErrDuplicate: %v", err)
	}
	if !strings.Contains(err.Error(), "2 value(s) refused") || !strings.Contains(err.Error(), "Invalid data") {
		t.Errorf("message %q", err)
	}

	obs, err = c.Observables.AddToCase(ctx(t), "~1", in)
	if err != nil || len(obs) != 1 {
		t.Fatalf("a single object answer: %+v, %v", obs, record(err))
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		match  []error
		not    []error
		text   string
	}{
		{401, `{"type":"AuthenticationError","message":"Authentication failure"}`,
			[]error{thehive.ErrUnauthorized}, []error{thehive.ErrNotFound, thehive.ErrBadRequest},
			"thehive: GET http://HOST/thehive/api/v1/case/~1: 401 AuthenticationError: Authentication failure"},
		{403, `{"type":"AuthorizationError","message":"Your are not authorized to create Case, you haven't the permission manageCase/create"}`,
			[]error{thehive.ErrForbidden}, []error{thehive.ErrUnauthorized}, ""},
		{404, `{"type":"NotFoundError","message":"Case ~1 not found"}`,
			[]error{thehive.ErrNotFound}, []error{thehive.ErrConflict}, "404 NotFoundError: Case ~1 not found"},
		{400, `{"type":"CreateError","message":"Alert a:b:c already exist in organisation soc"}`,
			[]error{thehive.ErrDuplicate, thehive.ErrConflict, thehive.ErrBadRequest}, []error{thehive.ErrNotFound}, ""},
		{400, `{"type":"CreateError","message":"Observable already exists"}`,
			[]error{thehive.ErrDuplicate, thehive.ErrConflict}, nil, ""},
		{400, `{"type":"CreateError","message":"Parent not found"}`,
			[]error{thehive.ErrConflict, thehive.ErrBadRequest}, []error{thehive.ErrDuplicate}, ""},
		{400, `{"type":"ConflictError","message":"[alert][x]: document already exists"}`,
			[]error{thehive.ErrDuplicate, thehive.ErrConflict}, nil, ""},
		{409, `conflict`, []error{thehive.ErrDuplicate, thehive.ErrConflict}, nil, "409 Conflict: conflict"},
		{400, `{"type":"AttributeCheckingError","message":"[Attribute title is missing]","errors":[]}`,
			[]error{thehive.ErrBadRequest}, []error{thehive.ErrDuplicate, thehive.ErrConflict}, ""},
		{429, ``, []error{thehive.ErrRateLimited}, nil, "429 Too Many Requests"},
		{500, "<html>\n<body>oops</body>\n</html>", nil,
			[]error{thehive.ErrNotFound, thehive.ErrBadRequest, thehive.ErrRateLimited},
			"500 Internal Server Error: <html> <body>oops</body> </html> (after 4 attempts)"},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			ps := newPinServer(t, ok(tc.status, tc.body))
			c := newClient(t, ps.URL+basePath)
			_, err := c.Cases.Get(ctx(t), "~1")
			record(err)
			var ae *thehive.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status {
				t.Fatalf("error %#v", err)
			}
			for _, m := range tc.match {
				if !errors.Is(err, m) {
					t.Errorf("%v does not match %v", err, m)
				}
			}
			for _, m := range tc.not {
				if errors.Is(err, m) {
					t.Errorf("%v matches %v", err, m)
				}
			}
			if tc.text != "" {
				got := strings.ReplaceAll(err.Error(), strings.TrimPrefix(ps.URL, "http://"), "HOST")
				if !strings.Contains(got, tc.text) {
					t.Errorf("message %q does not contain %q", got, tc.text)
				}
			}
		})
	}
}

func TestAssignUnknownUser(t *testing.T) {
	t.Parallel()
	refusal := `{"type":"NotFoundError","message":"User nobody@soc not found"}`
	ps := newPinServer(t, ok(404, refusal), ok(404, refusal))
	c := newClient(t, ps.URL+basePath)
	err := c.Cases.Assign(ctx(t), "~1", "nobody@soc")
	errIs(t, err, thehive.ErrUnknownUser)
	errIs(t, err, thehive.ErrNotFound)
	var ue *thehive.UnknownUserError
	if !errors.As(err, &ue) || ue.Login != "nobody@soc" {
		t.Fatalf("%#v", err)
	}
	reqs := ps.requests()
	if len(reqs) != 2 || reqs[1].Method != "GET" || reqs[1].Path != basePath+"/api/v1/user/nobody@soc" {
		t.Fatalf("requests %+v", reqs)
	}

	// The case is missing, the user exists: a plain not found.
	ps = newPinServer(t, ok(404, `{"type":"NotFoundError","message":"Case ~1 not found"}`), ok(200, userJSON))
	c = newClient(t, ps.URL+basePath)
	err = c.Cases.Assign(ctx(t), "~1", "analyst@soc")
	errIs(t, err, thehive.ErrNotFound)
	if errors.Is(err, thehive.ErrUnknownUser) {
		t.Fatal("a missing case reported as an unknown user")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	var c thehive.Case
	if err := json.Unmarshal([]byte(caseJSON), &c); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back thehive.Case
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back, cmpTime, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["_createdAt"] != float64(1700000000000) || m["startDate"] != float64(1700000000000) {
		t.Errorf("dates not in epoch milliseconds: %v %v", m["_createdAt"], m["startDate"])
	}
	if _, ok := m["endDate"]; ok {
		t.Error("a zero date was encoded")
	}
	// Every output type survives a round trip.
	for name, pair := range map[string]struct {
		raw string
		v   any
	}{
		"alert": {alertJSON, &thehive.Alert{}}, "observable": {fileObservableJSON, &thehive.Observable{}},
		"task": {taskJSON, &thehive.Task{}}, "log": {logJSON, &thehive.Log{}}, "comment": {commentJSON, &thehive.Comment{}},
		"user": {userJSON, &thehive.User{}}, "job": {jobJSON, &thehive.Job{}}, "template": {templateJSON, &thehive.CaseTemplate{}},
		"type": {observableTypeJSON, &thehive.ObservableType{}}, "field": {customFieldJSON, &thehive.CustomField{}},
	} {
		if err := json.Unmarshal([]byte(pair.raw), pair.v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(pair.v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(b), "1700000000000") {
			t.Errorf("%s: dates lost: %s", name, b)
		}
	}
}

func TestBadDates(t *testing.T) {
	t.Parallel()
	var c thehive.Case
	err := json.Unmarshal([]byte(`{"_id":"~1","_createdAt":"yesterday"}`), &c)
	if err == nil || !strings.Contains(err.Error(), "_createdAt") {
		t.Fatalf("error %v, want one naming _createdAt", err)
	}
	if err := json.Unmarshal([]byte(`{"_id":"~1","_createdAt":null}`), &c); err != nil || !c.CreatedAt.IsZero() {
		t.Fatalf("null date: %v %v", c.CreatedAt, err)
	}
}

func TestEnums(t *testing.T) {
	t.Parallel()
	got := []string{
		thehive.SeverityLow.String(), thehive.SeverityCritical.String(), thehive.Severity(9).String(),
		thehive.TLPClear.String(), thehive.TLPAmberStrict.String(), thehive.TLPRed.String(), thehive.TLP(7).String(),
		thehive.PAPClear.String(), thehive.PAPRed.String(), thehive.PAP(-1).String(),
	}
	want := []string{"LOW", "CRITICAL", "Severity(9)", "CLEAR", "AMBER+STRICT", "RED", "TLP(7)", "CLEAR", "RED", "PAP(-1)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	closed := []thehive.CaseStatus{thehive.CaseStatusTruePositive, thehive.CaseStatusFalsePositive,
		thehive.CaseStatusIndeterminate, thehive.CaseStatusOther, thehive.CaseStatusDuplicated}
	for _, s := range closed {
		if !s.Closed() {
			t.Errorf("%s is not closed", s)
		}
	}
	for _, s := range []thehive.CaseStatus{thehive.CaseStatusNew, thehive.CaseStatusInProgress, "Custom"} {
		if s.Closed() {
			t.Errorf("%s is closed", s)
		}
	}
	if thehive.TaskStatus("Done").Valid() || !thehive.TaskCancel.Valid() {
		t.Error("TaskStatus.Valid")
	}
	if thehive.CaseNumber(42) != "42" {
		t.Error("CaseNumber")
	}
	v := thehive.CustomFieldValue{Value: float64(1700000000000)}
	if tm, ok := v.Time(); !ok || !tm.Equal(t0) || v.String() != "1700000000000" {
		t.Errorf("date value: %v %v %q", tm, ok, v.String())
	}
	if _, ok := (thehive.CustomFieldValue{Value: "x"}).Time(); ok {
		t.Error("a string is a date")
	}
	if (thehive.CustomFieldValue{}).String() != "" || (thehive.CustomFieldValue{Value: true}).String() != "true" {
		t.Error("CustomFieldValue.String")
	}
}

func TestBrokenResponses(t *testing.T) {
	t.Parallel()
	// A 200 whose body stops short: the connection broke.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + caseJSON[:60])
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	_, err := c.Cases.Get(ctx(t), "~1")
	record(err)
	var re *thehive.ReadError
	if !errors.As(err, &re) || !re.Temporary() || re.Path != "/api/v1/case/~1" {
		t.Fatalf("error %#v, want a temporary ReadError", err)
	}

	// Whole bodies that are not what was asked for are not temporary.
	ps := newPinServer(t, ok(200, `{"_id": 12`), ok(200, `[1,2]`), answer{status: 200})
	c = newClient(t, ps.URL+basePath)
	for i := range 3 {
		_, err := c.Cases.Get(ctx(t), "~1")
		record(err)
		if err == nil || errors.As(err, &re) {
			t.Errorf("answer %d: error %v", i, err)
		}
	}
}
