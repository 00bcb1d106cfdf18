package crashtest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// TestFetchSnapshot fills a fake TheHive through the client and reads it
// back over its control route and in process: both must agree, and hold
// what was created.
func TestFetchSnapshot(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	th, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(thehivetest.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const eml = "From: a@b\r\n\r\nhi\r\n"
	c, err := th.Cases.Create(ctx, &thehive.CaseCreate{Title: "Phishing", Description: "d", Assignee: thehivetest.AdminLogin,
		Tasks: []thehive.TaskCreate{{Title: crashtest.TaskTitle}}})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := th.Cases.FindTasks(ctx, c.ID, nil)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %v, %v", tasks, err)
	}
	if _, err := th.TaskLogs.Create(ctx, tasks[0].ID, &thehive.LogCreate{Message: "hello",
		Attachments: []thehive.File{{Name: "m.eml", Reader: strings.NewReader(eml)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := th.Observables.AddToCase(ctx, c.ID, &thehive.ObservableCreate{DataType: "ip", Data: []string{"203.0.113.9"}}); err != nil {
		t.Fatal(err)
	}

	remote, err := crashtest.FetchSnapshot(ctx, http.DefaultClient, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	local, err := crashtest.NewSnapshot(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	// The control route is not counted; the snapshot taken in process saw
	// the same requests.
	if diff := cmp.Diff(local, remote); diff != "" {
		t.Errorf("in process (-) and over HTTP (+) differ:\n%s", diff)
	}
	if len(remote.Cases) != 1 || remote.Cases[0].Title != "Phishing" || remote.Cases[0].Assignee != thehivetest.AdminLogin {
		t.Errorf("cases %+v", remote.Cases)
	}
	if len(remote.Logs) != 1 || remote.Logs[0].Extra.CaseID != string(c.ID) || len(remote.Logs[0].Attachments) != 1 ||
		remote.Logs[0].Attachments[0].SHA256() != hexSHA256(eml) {
		t.Errorf("logs %+v", remote.Logs)
	}
	if len(remote.Observables) != 1 || remote.Observables[0].Value() != "203.0.113.9" || remote.Observables[0].Extra.CaseID != string(c.ID) {
		t.Errorf("observables %+v", remote.Observables)
	}
	if p := remote.Problems(crashtest.TaskTitle); len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
	if remote.TotalRequests() != 4 {
		t.Errorf("%d requests counted, 4 were made", remote.TotalRequests())
	}

	if _, err := crashtest.FetchSnapshot(ctx, http.DefaultClient, srv.URL()+"/nowhere"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a wrong URL gave %v, want a 404 error", err)
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
