package thehive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// newFake starts a fake TheHive with a case template, custom fields and an
// analyst, and returns a client of it authenticated with the admin's API
// key in the main organisation.
func newFake(t *testing.T, opts ...thehivetest.Option) (*thehivetest.Server, *thehive.Client) {
	t.Helper()
	base := []thehivetest.Option{
		thehivetest.WithUser(thehivetest.User{Login: "analyst@thehive.local", Name: "Analyst", Profile: "analyst"}),
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "synapse-thread", Group: "synapse", Description: "mail thread", Type: "string"}),
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "score", Group: "synapse", Description: "score", Type: "integer"}),
		thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{
			Name: "Phishing", TitlePrefix: "[PHISH] ", Severity: 3, Tags: []string{"phishing"},
			Tasks:        []thehivetest.TemplateTask{{Title: "Communication", Group: "mail"}, {Title: "Analysis"}},
			CustomFields: map[string]any{"score": 1},
		}),
	}
	srv := thehivetest.NewServer(t, append(base, opts...)...)
	c, err := thehive.NewClient(srv.URL(),
		thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation),
		thehive.WithLogger(testLogger),
		thehive.WithRetryPolicy(thehive.RetryPolicy{MaxRetries: 6, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}),
	)
	if err != nil {
		t.Fatal(err)
	}
	clientsMade.Add(1)
	return srv, c
}

// must returns v, or fails the test on err: must(c.Cases.Get(ctx, id))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(record(err))
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(record(err))
	}
}

func TestFakeCredentialsMatchTheContract(t *testing.T) {
	t.Parallel()
	if thehivetest.APIKey != fakeAPIKey || thehivetest.AdminLogin != fakeLogin || thehivetest.AdminPassword != fakePassword {
		t.Fatal("the test secrets list does not hold the fake's credentials")
	}
}

func TestFakeCases(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t)
	ctx := ctx(t)

	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{
		Title: "Invoice mail", Description: "Reported by finance", Template: "Phishing",
		TLP: thehive.Ptr(thehive.TLPGreen), PAP: thehive.Ptr(thehive.PAPClear), Tags: []string{"mail"},
		CustomFields: thehive.CustomFields{"synapse-thread": "AAQkAD-1"},
	}))(t)
	if cs.Number != 1 || cs.Title != "[PHISH] Invoice mail" || cs.Severity != thehive.SeverityHigh ||
		cs.TLP != thehive.TLPGreen || cs.PAP != thehive.PAPClear || cs.Status != thehive.CaseStatusNew || cs.Stage != thehive.StageNew {
		t.Errorf("created %+v", cs)
	}
	if v, ok := cs.CustomField("synapse-thread"); !ok || v.String() != "AAQkAD-1" {
		t.Errorf("thread key %v %v", v, ok)
	}
	if v, ok := cs.CustomField("score"); !ok || v.String() != "1" {
		t.Errorf("template custom field %v %v", v, ok)
	}
	tasks := must(c.Cases.FindTasks(ctx, cs.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("title")}}))(t)
	var titles []string
	for _, tk := range tasks {
		titles = append(titles, tk.Title)
	}
	if diff := cmp.Diff([]string{"Analysis", "Communication"}, titles); diff != "" {
		t.Errorf("template tasks (-want +got):\n%s", diff)
	}

	// Get by id and by number answer the same case.
	byID := must(c.Cases.Get(ctx, cs.ID))(t)
	byNumber := must(c.Cases.Get(ctx, thehive.CaseNumber(cs.Number)))(t)
	if diff := cmp.Diff(byID, byNumber, cmpTime); diff != "" {
		t.Errorf("by number (-id +number):\n%s", diff)
	}

	// The thread key finds the case through the query API.
	found := must(c.Cases.FindByCustomField(ctx, "synapse-thread", "AAQkAD-1"))(t)
	if len(found) != 1 || found[0].ID != cs.ID {
		t.Fatalf("FindByCustomField = %+v", found)
	}
	if none := must(c.Cases.FindByCustomField(ctx, "synapse-thread", "other"))(t); len(none) != 0 {
		t.Errorf("an unknown thread found %d cases", len(none))
	}

	noErr(t, c.Cases.Update(ctx, cs.ID, &thehive.CaseUpdate{
		Summary: thehive.Ptr("first look"), AddTags: []string{"finance"}, Severity: thehive.Ptr(thehive.SeverityCritical),
		CustomFields: thehive.CustomFields{"score": 7},
	}))
	got := must(c.Cases.Get(ctx, cs.ID))(t)
	if got.Summary != "first look" || got.Severity != thehive.SeverityCritical || !slices.Contains(got.Tags, "finance") || !slices.Contains(got.Tags, "mail") {
		t.Errorf("updated %+v", got)
	}
	if v, _ := got.CustomField("score"); v.String() != "7" {
		t.Errorf("score %v", v)
	}
	noErr(t, c.Cases.Update(ctx, cs.ID, &thehive.CaseUpdate{Remove: []string{"summary"}}))
	if got := must(c.Cases.Get(ctx, cs.ID))(t); got.Summary != "" {
		t.Errorf("summary not removed: %q", got.Summary)
	}

	noErr(t, c.Cases.Assign(ctx, cs.ID, "analyst@thehive.local"))
	if got := must(c.Cases.Get(ctx, cs.ID))(t); got.Assignee != "analyst@thehive.local" {
		t.Errorf("assignee %q", got.Assignee)
	}
	errIs(t, c.Cases.Assign(ctx, cs.ID, "nobody@thehive.local"), thehive.ErrUnknownUser)
	if err := c.Cases.Assign(ctx, "~999999", "analyst@thehive.local"); errors.Is(record(err), thehive.ErrUnknownUser) || !errors.Is(err, thehive.ErrNotFound) {
		t.Errorf("assigning a missing case: %v", err)
	}

	noErr(t, c.Cases.Close(ctx, cs.ID, thehive.CaseClose{Status: thehive.CaseStatusTruePositive, ImpactStatus: thehive.ImpactWith, Summary: "blocked"}))
	closed := must(c.Cases.Get(ctx, cs.ID))(t)
	if !closed.Closed() || closed.Status != thehive.CaseStatusTruePositive || closed.ImpactStatus != thehive.ImpactWith ||
		closed.Summary != "blocked" || closed.EndDate.IsZero() {
		t.Errorf("closed %+v", closed)
	}
	noErr(t, c.Cases.Reopen(ctx, cs.ID))
	if got := must(c.Cases.Get(ctx, cs.ID))(t); got.Stage != thehive.StageInProgress {
		t.Errorf("reopened stage %s", got.Stage)
	}

	// A second and a third case; find, count and iterate.
	for i := range 2 {
		must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: fmt.Sprintf("case %d", i), Description: "d"}))(t)
	}
	if n := must(c.Cases.Count(ctx, thehive.Filter{}))(t); n != 3 {
		t.Errorf("Count = %d", n)
	}
	var raw int
	noErr(t, c.RawQuery(ctx, []any{map[string]any{"_name": "listCase"}, thehive.FilterOp(thehive.Like("title", "case")), map[string]any{"_name": "count"}}, &raw))
	if raw != 2 {
		t.Errorf("RawQuery count = %d", raw)
	}
	if n := must(c.Cases.Count(ctx, thehive.StartsWith("title", "case ")))(t); n != 2 {
		t.Errorf("Count(startsWith) = %d", n)
	}
	page := must(c.Cases.Find(ctx, &thehive.Query{Sort: []thehive.Sort{thehive.Desc("number")}, Limit: 2}))(t)
	if len(page) != 2 || page[0].Number != 3 || page[1].Number != 2 {
		t.Errorf("page %+v", page)
	}
	var numbers []int
	for cs, err := range c.Cases.FindAll(ctx, &thehive.Query{Limit: 1}) {
		noErr(t, err)
		numbers = append(numbers, cs.Number)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, numbers); diff != "" {
		t.Errorf("FindAll numbers (-want +got):\n%s", diff)
	}

	noErr(t, c.Cases.Delete(ctx, cs.ID))
	_, err := c.Cases.Get(ctx, cs.ID)
	errIs(t, err, thehive.ErrNotFound)
	if len(srv.Cases()) != 2 {
		t.Errorf("%d cases stored after a deletion", len(srv.Cases()))
	}
}

func TestFakeMergeCases(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	a := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "first", Description: "d"}))(t)
	b := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "second", Description: "d"}))(t)
	merged := must(c.Cases.Merge(ctx, []thehive.CaseID{a.ID, b.ID}))(t)
	if merged.Title != "first / second" {
		t.Errorf("merged title %q", merged.Title)
	}
	for _, id := range []thehive.CaseID{a.ID, b.ID} {
		_, err := c.Cases.Get(ctx, id)
		errIs(t, err, thehive.ErrNotFound)
	}
}

func TestFakeAlerts(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t)
	ctx := ctx(t)
	mail := []byte("From: eve@example.org\r\nSubject: invoice\r\n\r\nPay now.\r\n")
	in := &thehive.AlertCreate{
		Type: "external", Source: "QRadar_Offenses", SourceRef: "211", Title: "Offense 211", Description: "Brute force",
		Severity: thehive.SeverityHigh, Date: t0, Tags: []string{"QRadar"},
		Observables: []thehive.ObservableCreate{
			{DataType: thehive.DataIP, Data: []string{"198.51.100.7"}, Tags: []string{"src"}},
			{DataType: thehive.DataFile, File: &thehive.File{Name: "mail.eml", ContentType: "message/rfc822", Reader: bytes.NewReader(mail)}},
		},
	}
	a := must(c.Alerts.Create(ctx, in))(t)
	if a.ObservableCount != 2 || a.Status != thehive.AlertStatusNew || !a.Follow || !a.Date.Equal(t0) || a.Severity != thehive.SeverityHigh {
		t.Errorf("created %+v", a)
	}

	// The same (type, source, sourceRef) again is a duplicate, even retried.
	_, err := c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "external", Source: "QRadar_Offenses", SourceRef: "211", Title: "t", Description: "d"}, thehive.SafeToRetry())
	errIs(t, err, thehive.ErrDuplicate)
	byRef := must(c.Alerts.GetBySourceRef(ctx, "external", "QRadar_Offenses", "211"))(t)
	if byRef.ID != a.ID {
		t.Errorf("GetBySourceRef = %s, want %s", byRef.ID, a.ID)
	}
	_, err = c.Alerts.GetBySourceRef(ctx, "external", "QRadar_Offenses", "21")
	errIs(t, err, thehive.ErrNotFound)

	obs := must(c.Alerts.FindObservables(ctx, a.ID, &thehive.Query{Filter: thehive.Eq("dataType", "file")}))(t)
	sum := sha256.Sum256(mail)
	if len(obs) != 1 || obs[0].Attachment == nil || obs[0].Attachment.Name != "mail.eml" ||
		obs[0].Attachment.SHA256() != hex.EncodeToString(sum[:]) || obs[0].Attachment.Size != int64(len(mail)) {
		t.Fatalf("file observable %+v", obs)
	}

	noErr(t, c.Alerts.Update(ctx, a.ID, &thehive.AlertUpdate{Title: thehive.Ptr("Offense 211 (magnitude 7)"), AddTags: []string{"magnitude:7"}}))
	noErr(t, c.Alerts.Unfollow(ctx, a.ID))
	if got := must(c.Alerts.Get(ctx, a.ID))(t); got.Follow || got.Title != "Offense 211 (magnitude 7)" || !slices.Contains(got.Tags, "magnitude:7") {
		t.Errorf("updated %+v", got)
	}
	noErr(t, c.Alerts.Follow(ctx, a.ID))
	if got := must(c.Alerts.Get(ctx, a.ID))(t); !got.Follow {
		t.Error("follow not set")
	}

	cs := must(c.Alerts.Promote(ctx, a.ID, &thehive.AlertPromote{Assignee: "analyst@thehive.local"}))(t)
	if cs.Title != "Offense 211 (magnitude 7)" || cs.Assignee != "analyst@thehive.local" {
		t.Errorf("promoted case %+v", cs)
	}
	if got := must(c.Alerts.Get(ctx, a.ID))(t); got.CaseID != cs.ID || got.Stage != thehive.StageImported || got.Status != thehive.AlertStatusImported {
		t.Errorf("promoted alert %+v", got)
	}
	caseObs := must(c.Cases.FindObservables(ctx, cs.ID, nil))(t)
	if len(caseObs) != 2 {
		t.Errorf("the case took %d observables of the alert, want 2", len(caseObs))
	}

	second := must(c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "external", Source: "QRadar_Offenses", SourceRef: "212", Title: "Offense 212", Description: "d"}))(t)
	into := must(c.Alerts.MergeIntoCase(ctx, second.ID, cs.ID))(t)
	if into.ID != cs.ID {
		t.Errorf("merged into %s", into.ID)
	}
	linked := must(c.Cases.FindAlerts(ctx, cs.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("sourceRef")}}))(t)
	if len(linked) != 2 || linked[0].SourceRef != "211" || linked[1].SourceRef != "212" {
		t.Errorf("alerts of the case: %+v", linked)
	}
	if n := must(c.Alerts.Count(ctx, thehive.Eq("caseId", string(cs.ID))))(t); n != 2 {
		t.Errorf("Count(caseId) = %d", n)
	}
	imported := must(c.Alerts.Find(ctx, &thehive.Query{Filter: thehive.Eq("stage", thehive.StageImported), Sort: []thehive.Sort{thehive.Desc("sourceRef")}}))(t)
	if len(imported) != 2 || imported[0].SourceRef != "212" {
		t.Errorf("Find(imported) = %+v", imported)
	}
	var refs []string
	for al, err := range c.Alerts.FindAll(ctx, nil) {
		noErr(t, err)
		refs = append(refs, al.SourceRef)
	}
	if diff := cmp.Diff([]string{"211", "212"}, refs); diff != "" {
		t.Errorf("FindAll (-want +got):\n%s", diff)
	}

	noErr(t, c.Alerts.Delete(ctx, second.ID))
	_, err = c.Alerts.Get(ctx, second.ID)
	errIs(t, err, thehive.ErrNotFound)
	if len(srv.Alerts()) != 1 {
		t.Errorf("%d alerts stored", len(srv.Alerts()))
	}
}

func TestFakeObservables(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)

	created := must(c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{
		DataType: thehive.DataDomain, Data: []string{"a.example", "b.example"}, Tags: []string{"mail"}, TLP: thehive.Ptr(thehive.TLPClear),
	}))(t)
	if len(created) != 2 || created[0].TLP != thehive.TLPClear || created[0].PAP != thehive.PAPAmber || created[0].IOC {
		t.Fatalf("created %+v", created)
	}

	// Adding them again: every value already exists.
	_, err := c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{DataType: thehive.DataDomain, Data: []string{"a.example"}})
	errIs(t, err, thehive.ErrDuplicate)
	// One new, one known: the new one is created, the error says duplicate.
	more, err := c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{DataType: thehive.DataDomain, Data: []string{"b.example", "c.example"}})
	errIs(t, err, thehive.ErrDuplicate)
	if len(more) != 1 || more[0].Data != "c.example" {
		t.Errorf("created with a duplicate: %+v", more)
	}

	// A file observable, streamed; the same file again is a duplicate.
	content := bytes.Repeat([]byte("attachment "), 1000)
	files := must(c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{
		DataType: thehive.DataFile, Message: "attachment",
		File: &thehive.File{Name: "report.pdf", ContentType: "application/pdf", Reader: onlyReader{bytes.NewReader(content)}},
	}))(t)
	if len(files) != 1 || files[0].Attachment == nil || files[0].Data != "" {
		t.Fatalf("file observable %+v", files)
	}
	att := files[0].Attachment
	sum := sha256.Sum256(content)
	if att.Name != "report.pdf" || att.ContentType != "application/pdf" || att.Size != int64(len(content)) || att.SHA256() != hex.EncodeToString(sum[:]) || len(att.Hashes) != 3 {
		t.Errorf("attachment %+v", att)
	}
	rc := must(c.Observables.DownloadAttachment(ctx, files[0].ID, att.ID))(t)
	got, err := io.ReadAll(rc)
	rc.Close()
	noErr(t, err)
	if !bytes.Equal(got, content) {
		t.Error("downloaded file differs from the upload")
	}
	_, err = c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{
		DataType: thehive.DataFile, File: &thehive.File{Name: "copy.pdf", Reader: bytes.NewReader(content)},
	}, thehive.SafeToRetry())
	errIs(t, err, thehive.ErrDuplicate)

	o := created[0]
	noErr(t, c.Observables.Update(ctx, o.ID, &thehive.ObservableUpdate{
		IOC: thehive.Ptr(true), Sighted: thehive.Ptr(true), Tags: thehive.Ptr([]string{"c2"}), TLP: thehive.Ptr(thehive.TLPRed),
		Message: thehive.Ptr("command and control"),
	}))
	upd := must(c.Observables.Get(ctx, o.ID))(t)
	if !upd.IOC || !upd.Sighted || upd.TLP != thehive.TLPRed || upd.Message != "command and control" || !cmp.Equal(upd.Tags, []string{"c2"}) || upd.Data != o.Data {
		t.Errorf("updated %+v", upd)
	}
	if n := must(c.Observables.Count(ctx, thehive.Eq("ioc", true)))(t); n != 1 {
		t.Errorf("Count(ioc) = %d", n)
	}
	iocs := must(c.Observables.Find(ctx, &thehive.Query{Filter: thehive.Eq("ioc", true)}))(t)
	if len(iocs) != 1 || iocs[0].ID != o.ID {
		t.Errorf("Find(ioc) = %+v", iocs)
	}
	all := 0
	for _, err := range c.Observables.FindAll(ctx, &thehive.Query{Limit: 2}) {
		noErr(t, err)
		all++
	}
	inCase := 0
	for _, err := range c.Cases.FindObservablesAll(ctx, cs.ID, nil) {
		noErr(t, err)
		inCase++
	}
	if all != 4 || inCase != 4 {
		t.Errorf("FindAll saw %d observables, the case's %d, want 4", all, inCase)
	}

	noErr(t, c.Observables.Delete(ctx, o.ID))
	_, err = c.Observables.Get(ctx, o.ID)
	errIs(t, err, thehive.ErrNotFound)

	al := must(c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "t", Source: "s", SourceRef: "r", Title: "t", Description: "d"}))(t)
	inAlert := must(c.Observables.AddToAlert(ctx, al.ID, &thehive.ObservableCreate{DataType: thehive.DataMail, Data: []string{"eve@example.org"}}))(t)
	if len(inAlert) != 1 {
		t.Fatalf("alert observables %+v", inAlert)
	}
	_, err = c.Observables.AddToAlert(ctx, al.ID, &thehive.ObservableCreate{DataType: thehive.DataMail, Data: []string{"eve@example.org"}})
	errIs(t, err, thehive.ErrDuplicate)
}

func TestFakeTasksAndLogs(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)
	tk := must(c.Tasks.Create(ctx, cs.ID, &thehive.TaskCreate{Title: "Communication", StartDate: t0, Status: thehive.TaskInProgress}))(t)
	if tk.Group != "default" || tk.Status != thehive.TaskInProgress || !tk.StartDate.Equal(t0) {
		t.Errorf("task %+v", tk)
	}
	if got := must(c.Tasks.Get(ctx, tk.ID))(t); got.Title != "Communication" {
		t.Errorf("get %+v", got)
	}
	found := must(c.Cases.FindTasks(ctx, cs.ID, &thehive.Query{Filter: thehive.Eq("title", "Communication")}))(t)
	if len(found) != 1 || found[0].ID != tk.ID {
		t.Errorf("find by title %+v", found)
	}
	for tk, err := range c.Cases.FindTasksAll(ctx, cs.ID, nil) {
		noErr(t, err)
		if tk.Title != "Communication" {
			t.Errorf("FindTasksAll %+v", tk)
		}
	}

	mail := []byte("Subject: hello\r\n\r\nbody\r\n")
	l := must(c.TaskLogs.Create(ctx, tk.ID, &thehive.LogCreate{
		Message: "**From:** eve@example.org", StartDate: t0,
		Attachments: []thehive.File{{Name: "mail.eml", ContentType: "message/rfc822", Reader: bytes.NewReader(mail)}},
	}, thehive.SafeToRetry()))(t)
	if len(l.Attachments) != 1 || l.Attachments[0].Name != "mail.eml" || l.Owner != thehivetest.AdminLogin {
		t.Fatalf("log %+v", l)
	}
	rc := must(c.TaskLogs.DownloadAttachment(ctx, l.ID, l.Attachments[0].ID))(t)
	got, err := io.ReadAll(rc)
	rc.Close()
	noErr(t, err)
	if !bytes.Equal(got, mail) {
		t.Error("downloaded log attachment differs")
	}
	must(c.TaskLogs.Create(ctx, tk.ID, &thehive.LogCreate{Message: "second"}))(t)
	logs := must(c.TaskLogs.Find(ctx, tk.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("_createdAt")}}))(t)
	if len(logs) != 2 || logs[0].ID != l.ID {
		t.Errorf("logs %+v", logs)
	}
	n := 0
	for _, err := range c.TaskLogs.FindAll(ctx, tk.ID, &thehive.Query{Limit: 1}) {
		noErr(t, err)
		n++
	}
	if n != 2 {
		t.Errorf("FindAll saw %d logs", n)
	}
	noErr(t, c.TaskLogs.Update(ctx, l.ID, &thehive.LogUpdate{Message: thehive.Ptr("edited")}))
	if got := must(c.TaskLogs.Get(ctx, l.ID))(t); got.Message != "edited" {
		t.Errorf("log after update %+v", got)
	}
	noErr(t, c.TaskLogs.Delete(ctx, l.ID))
	_, err = c.TaskLogs.Get(ctx, l.ID)
	errIs(t, err, thehive.ErrNotFound)

	noErr(t, c.Tasks.Update(ctx, tk.ID, &thehive.TaskUpdate{Status: thehive.Ptr(thehive.TaskCompleted), Assignee: thehive.Ptr("analyst@thehive.local")}))
	if got := must(c.Tasks.Get(ctx, tk.ID))(t); got.Status != thehive.TaskCompleted || got.Assignee != "analyst@thehive.local" {
		t.Errorf("task after update %+v", got)
	}
	if n := must(c.Tasks.Count(ctx, thehive.Eq("status", thehive.TaskCompleted)))(t); n != 1 {
		t.Errorf("Count = %d", n)
	}
	if all := must(c.Tasks.Find(ctx, nil))(t); len(all) != 1 {
		t.Errorf("Find = %d tasks", len(all))
	}
	for _, err := range c.Tasks.FindAll(ctx, nil) {
		noErr(t, err)
	}
	noErr(t, c.Tasks.Delete(ctx, tk.ID))
	_, err = c.Tasks.Get(ctx, tk.ID)
	errIs(t, err, thehive.ErrNotFound)
}

func TestFakeComments(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)
	al := must(c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "t", Source: "s", SourceRef: "r", Title: "t", Description: "d"}))(t)
	cm := must(c.Comments.AddToCase(ctx, cs.ID, "looked at it"))(t)
	if cm.IsEdited || cm.CreatedBy != thehivetest.AdminLogin || cm.CreatedAt.IsZero() {
		t.Errorf("comment %+v", cm)
	}
	must(c.Comments.AddToAlert(ctx, al.ID, "noise"))(t)
	noErr(t, c.Comments.Update(ctx, cm.ID, "looked at it twice"))
	if got := must(c.Comments.Get(ctx, cm.ID))(t); got.Message != "looked at it twice" || !got.IsEdited {
		t.Errorf("after update %+v", got)
	}
	if got := must(c.Cases.FindComments(ctx, cs.ID, nil))(t); len(got) != 1 {
		t.Errorf("case comments %+v", got)
	}
	if got := must(c.Alerts.FindComments(ctx, al.ID, nil))(t); len(got) != 1 || got[0].Message != "noise" {
		t.Errorf("alert comments %+v", got)
	}
	noErr(t, c.Comments.Delete(ctx, cm.ID))
	_, err := c.Comments.Get(ctx, cm.ID)
	errIs(t, err, thehive.ErrNotFound)
}

func TestFakeUsers(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	me := must(c.Users.Current(ctx))(t)
	if me.Login != thehivetest.AdminLogin || me.Organisation != thehivetest.Organisation {
		t.Errorf("current %+v", me)
	}
	u := must(c.Users.Get(ctx, "analyst@thehive.local"))(t)
	if u.Profile != "analyst" || u.Name != "Analyst" {
		t.Errorf("user %+v", u)
	}
	_, err := c.Users.Get(ctx, "nobody@thehive.local")
	errIs(t, err, thehive.ErrNotFound)
	users := must(c.Users.Find(ctx, &thehive.Query{Filter: thehive.EndsWith("login", "@thehive.local"), Sort: []thehive.Sort{thehive.Asc("login")}}))(t)
	var logins []string
	for _, u := range users {
		logins = append(logins, u.Login)
	}
	if !slices.Contains(logins, "analyst@thehive.local") || !slices.Contains(logins, thehivetest.AdminLogin) {
		t.Errorf("users %v", logins)
	}
	for _, err := range c.Users.FindAll(ctx, nil) {
		noErr(t, err)
	}
}

func TestFakeAdministration(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	admin := thehive.InOrganisation(thehivetest.AdminOrganisation)

	f := must(c.CustomFields.Create(ctx, &thehive.CustomFieldCreate{
		Name: "business-unit", Group: "org", Description: "unit", Type: thehive.FieldString, Options: []any{"Sales", "Marketing"},
	}, admin))(t)
	if f.Name != "business-unit" || f.Type != thehive.FieldString {
		t.Errorf("custom field %+v", f)
	}
	_, err := c.CustomFields.Create(ctx, &thehive.CustomFieldCreate{Name: "business-unit", Group: "org", Description: "unit", Type: thehive.FieldString}, admin)
	errIs(t, err, thehive.ErrDuplicate)
	fields := must(c.CustomFields.List(ctx))(t)
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "business-unit") || !slices.Contains(names, "synapse-thread") {
		t.Errorf("custom fields %v", names)
	}
	noErr(t, c.CustomFields.Delete(ctx, "business-unit", false, admin))
	errIs(t, c.CustomFields.Delete(ctx, "business-unit", false, admin), thehive.ErrNotFound)

	tpl := must(c.CaseTemplates.Create(ctx, &thehive.CaseTemplateCreate{
		Name: "Malware", TitlePrefix: "[MAL] ", Severity: thehive.SeverityHigh, Tags: []string{"malware"},
		Tasks: []thehive.TaskCreate{{Title: "Containment"}}, CustomFields: thehive.CustomFields{"score": 5},
	}))(t)
	if tpl.Name != "Malware" || len(tpl.Tasks) != 1 {
		t.Errorf("template %+v", tpl)
	}
	_, err = c.CaseTemplates.Create(ctx, &thehive.CaseTemplateCreate{Name: "Malware"})
	errIs(t, err, thehive.ErrDuplicate)
	if got := must(c.CaseTemplates.Get(ctx, "Malware"))(t); got.ID != tpl.ID {
		t.Errorf("get by name %+v", got)
	}
	tpls := must(c.CaseTemplates.Find(ctx, &thehive.Query{Filter: thehive.Eq("name", "Malware")}))(t)
	if len(tpls) != 1 {
		t.Errorf("find %+v", tpls)
	}
	for _, err := range c.CaseTemplates.FindAll(ctx, nil) {
		noErr(t, err)
	}
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "dropper", Description: "d", Template: "Malware",
		Tasks: []thehive.TaskCreate{{Title: "Own task"}}}))(t)
	if cs.Title != "[MAL] dropper" {
		t.Errorf("case from template %q", cs.Title)
	}
	if tasks := must(c.Cases.FindTasks(ctx, cs.ID, nil))(t); len(tasks) != 1 || tasks[0].Title != "Own task" {
		t.Errorf("tasks given at creation replace the template's: %+v", tasks)
	}
	noErr(t, c.CaseTemplates.Delete(ctx, "Malware"))
	_, err = c.CaseTemplates.Get(ctx, "Malware")
	errIs(t, err, thehive.ErrNotFound)
	_, err = c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", Template: "Malware"})
	errIs(t, err, thehive.ErrNotFound)

	ot := must(c.ObservableTypes.Create(ctx, "username", false, admin))(t)
	if ot.Name != "username" || ot.IsAttachment {
		t.Errorf("observable type %+v", ot)
	}
	_, err = c.ObservableTypes.Create(ctx, "username", false, admin)
	errIs(t, err, thehive.ErrDuplicate)
	if got := must(c.ObservableTypes.Get(ctx, "file"))(t); !got.IsAttachment {
		t.Errorf("file type %+v", got)
	}
	types := must(c.ObservableTypes.Find(ctx, &thehive.Query{Filter: thehive.Eq("isAttachment", true)}))(t)
	if len(types) != 1 || types[0].Name != "file" {
		t.Errorf("attachment types %+v", types)
	}
	noErr(t, c.ObservableTypes.Delete(ctx, "username", admin))
	_, err = c.ObservableTypes.Get(ctx, "username")
	errIs(t, err, thehive.ErrNotFound)
}

func TestFakeCortex(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	analyzers := must(c.Cortex.ListAnalyzers(ctx))(t)
	if len(analyzers) == 0 {
		t.Fatal("no analyzer")
	}
	forIP := must(c.Cortex.AnalyzersFor(ctx, thehive.DataIP))(t)
	if len(forIP) == 0 || !slices.Contains(forIP[0].DataTypes, thehive.DataIP) || len(forIP[0].CortexIDs) == 0 {
		t.Fatalf("analyzers for ip %+v", forIP)
	}
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)
	obs := must(c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{DataType: thehive.DataIP, Data: []string{"198.51.100.7"}}))(t)
	job := must(c.Cortex.RunAnalyzer(ctx, &thehive.JobCreate{AnalyzerID: forIP[0].ID, CortexID: forIP[0].CortexIDs[0], ObservableID: obs[0].ID}))(t)
	if job.AnalyzerID != forIP[0].ID || job.ID == "" {
		t.Errorf("job %+v", job)
	}
	done := must(c.Cortex.WaitJob(ctx, job.ID, time.Millisecond))(t)
	if done.Status != thehive.JobSuccess || len(done.Report) == 0 {
		t.Errorf("finished job %+v", done)
	}
	if got := must(c.Cortex.GetJob(ctx, job.ID))(t); got.ID != job.ID {
		t.Errorf("get job %+v", got)
	}
	_, err := c.Cortex.GetJob(ctx, "~424242")
	errIs(t, err, thehive.ErrNotFound)
}

func TestFakeAuthentication(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t)
	ctx := ctx(t)
	for name, opts := range map[string][]thehive.Option{
		"wrong key":      {thehive.WithAPIKey(pinKey)},
		"wrong password": {thehive.WithBasicAuth(thehivetest.AdminLogin, pinPassword)},
		"no credentials": nil,
		"foreign org":    {thehive.WithAPIKey(thehivetest.APIKey), thehive.WithOrganisation("elsewhere")},
	} {
		c, err := thehive.NewClient(srv.URL(), append(opts, thehive.WithLogger(testLogger))...)
		noErr(t, err)
		_, err = c.Users.Current(ctx)
		record(err)
		if !errors.Is(err, thehive.ErrUnauthorized) {
			t.Errorf("%s: error %v, want ErrUnauthorized", name, err)
		}
	}
	c, err := thehive.NewClient(srv.URL(), thehive.WithBasicAuth(thehivetest.AdminLogin, thehivetest.AdminPassword), thehive.WithLogger(testLogger))
	noErr(t, err)
	if me := must(c.Users.Current(ctx))(t); me.Login != thehivetest.AdminLogin {
		t.Errorf("basic auth as %q", me.Login)
	}
	st := must(c.Status(ctx))(t)
	if st.Versions["TheHive"] == "" {
		t.Errorf("status %+v", st)
	}
	// A read-only user may not create a case.
	noErr(t, srv.AddUser(thehivetest.User{Login: "ro@thehive.local", Name: "RO", Profile: "read-only", APIKey: pinKey}))
	ro, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(pinKey), thehive.WithLogger(testLogger))
	noErr(t, err)
	_, err = ro.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"})
	errIs(t, err, thehive.ErrForbidden)
}

func TestFakeRejectsBadInput(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	ctx := ctx(t)
	_, err := c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", CustomFields: thehive.CustomFields{"no-such-field": "x"}})
	errIs(t, err, thehive.ErrNotFound)
	_, err = c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", Status: "Bogus"})
	errIs(t, err, thehive.ErrBadRequest)
	var ae *thehive.APIError
	if !errors.As(err, &ae) || ae.Type != thehive.TypeAttributeCheckingError {
		t.Errorf("bad status: %v", err)
	}
	_, err = c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d", Assignee: "nobody@thehive.local"})
	errIs(t, err, thehive.ErrNotFound)
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)
	_, err = c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{DataType: "no-such-type", Data: []string{"x"}})
	record(err)
	if err == nil || errors.Is(err, thehive.ErrDuplicate) {
		t.Errorf("unknown data type: %v", err)
	}
}

// TestFakeIdempotentCreationsUnderFaults creates alerts, each with an
// observable, while the fake fails a third of the requests, before or
// after applying them. Creations marked SafeToRetry and duplicates counted
// as success give exactly one alert and one observable each.
func TestFakeIdempotentCreationsUnderFaults(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t)
	ctx := ctx(t)
	srv.SetFaults(thehivetest.Faults{
		Rate: 0.33, AfterApply: 0.5, Seed: 7,
		Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus500, thehivetest.FaultStatus502, thehivetest.FaultStatus503, thehivetest.FaultDropConnection},
	})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- ensureAlert(ctx, c, offenseRef(i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(record(err))
		}
	}
	if srv.InjectedFaults() == 0 {
		t.Fatal("no fault was injected")
	}
	srv.SetFaults(thehivetest.Faults{})
	if got := len(srv.Alerts()); got != n {
		t.Errorf("%d alerts stored, want %d", got, n)
	}
	if got := len(srv.Observables()); got != n {
		t.Errorf("%d observables stored, want %d", got, n)
	}
}

// offenseRef is the sourceRef of the i-th alert.
func offenseRef(i int) string { return fmt.Sprintf("offense-%d", i) }

// ensureAlert is how a workflow step creates an alert idempotently.
func ensureAlert(ctx context.Context, c *thehive.Client, ref string) error {
	for attempt := 0; ; attempt++ {
		a, err := c.Alerts.Create(ctx, &thehive.AlertCreate{Type: "external", Source: "qradar", SourceRef: ref, Title: ref, Description: "d"}, thehive.SafeToRetry())
		if errors.Is(err, thehive.ErrDuplicate) {
			a, err = c.Alerts.GetBySourceRef(ctx, "external", "qradar", ref)
		}
		if err == nil {
			_, err = c.Observables.AddToAlert(ctx, a.ID, &thehive.ObservableCreate{DataType: thehive.DataOther, Data: []string{ref}}, thehive.SafeToRetry())
			if err == nil || errors.Is(err, thehive.ErrDuplicate) {
				return nil
			}
		}
		record(err)
		if attempt == 20 {
			return err
		}
	}
}

func TestFakeWebhookToHandler(t *testing.T) {
	t.Parallel()
	rec := &hookRecorder{}
	h, err := thehive.NewWebhookHandler(rec.handle, thehive.WithBearerToken(hookToken), thehive.WithWebhookLogger(testLogger))
	noErr(t, err)
	hook := httptest.NewServer(h)
	t.Cleanup(hook.Close)
	srv, c := newFake(t, thehivetest.WithWebhook(hook.URL, "Bearer "+hookToken))
	ctx := ctx(t)
	cs := must(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))(t)
	noErr(t, c.Cases.Close(ctx, cs.ID, thehive.CaseClose{Status: thehive.CaseStatusFalsePositive, Summary: "benign"}))
	srv.FlushWebhooks()
	if srv.WebhookFailures() != 0 {
		t.Fatalf("%d webhook deliveries failed", srv.WebhookFailures())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var closedCase *thehive.Event
	for _, e := range rec.events {
		if e.IsCaseClosed() {
			closedCase = e
		}
	}
	if closedCase == nil {
		t.Fatalf("no case-closed event among %d events", len(rec.events))
	}
	if closedCase.ObjectID != string(cs.ID) || closedCase.Version != 5 || closedCase.CaseNumber() != cs.Number {
		t.Errorf("event %+v", closedCase)
	}
	var got thehive.Case
	noErr(t, closedCase.DecodeObject(&got))
	if got.Status != thehive.CaseStatusFalsePositive || got.Summary != "benign" {
		t.Errorf("event object %+v", got)
	}
}
