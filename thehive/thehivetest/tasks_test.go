package thehivetest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestTasks(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "bob@soc", Profile: "analyst"}))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "my first task"}).want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_type": "Task", "_createdBy": thehivetest.AdminLogin, "title": "my first task", "group": "default",
		"status": "Waiting", "flag": false, "order": 0.0, "mandatory": false, "extraData": map[string]any{},
	}
	if d := diff(want, task); d != "" {
		t.Errorf("task (-want +got):\n%s", d)
	}
	path := "/api/v1/task/" + id(task)
	if d := cmp.Diff(task, c.do("GET", path, nil).want(t, http.StatusOK).obj()); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	c.do("PATCH", path, map[string]any{"status": "InProgress", "assignee": "bob@soc"}).want(t, http.StatusNoContent)
	got := c.do("GET", path, nil).obj()
	if got["status"] != "InProgress" || got["assignee"] != "bob@soc" || got["startDate"] == nil {
		t.Errorf("task %v", got)
	}
	c.do("PATCH", path, map[string]any{"status": "Done"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "")
	c.do("PATCH", path, map[string]any{"assignee": "ghost@soc"}).wantError(t, http.StatusNotFound, "NotFoundError", "User not found")
	c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"group": "g"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute title is missing]")
	c.do("POST", "/api/v1/case/~1/task", map[string]any{"title": "x"}).wantError(t, http.StatusNotFound, "NotFoundError", "Case not found")

	c.do("PUT", path+"/actionRequired/"+thehivetest.Organisation, nil).want(t, http.StatusNoContent)
	if d := cmp.Diff(map[string]any{thehivetest.Organisation: true}, c.do("GET", path+"/actionRequired", nil).obj()); d != "" {
		t.Errorf("action required (-want +got):\n%s", d)
	}
	c.do("PUT", path+"/actionDone/"+thehivetest.Organisation, nil).want(t, http.StatusNoContent)
	if c.do("GET", path+"/actionRequired", nil).obj()[thehivetest.Organisation] != false {
		t.Error("action still required")
	}
	c.do("POST", path+"/shares", map[string]any{"organisations": []any{thehivetest.Organisation}}).want(t, http.StatusNoContent)
	if n := len(c.do("GET", path+"/shares", nil).want(t, http.StatusOK).list()); n != 0 {
		t.Errorf("%d shares", n)
	}
	c.do("DELETE", path, nil).want(t, http.StatusNoContent)
	c.do("GET", path, nil).wantError(t, http.StatusNotFound, "NotFoundError", "Task not found")
}

func TestTaskLogs(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "Communication"}).want(t, http.StatusCreated).obj()
	log := c.do("POST", "/api/v1/task/"+id(task)+"/log", map[string]any{"message": "first", "includeInTimeline": 5, "startDate": 7}).
		want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_type": "Log", "_createdBy": thehivetest.AdminLogin, "message": "first", "owner": thehivetest.AdminLogin,
		"includeInTimeline": 5.0, "extraData": map[string]any{},
	}
	if d := diff(want, log); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	if log["date"] != 7.0 {
		t.Errorf("date %v, want the startDate given", log["date"])
	}
	// A log starts a waiting task.
	if st := c.do("GET", "/api/v1/task/"+id(task), nil).obj()["status"]; st != "InProgress" {
		t.Errorf("task status %v", st)
	}
	got := query(c, map[string]any{"_name": "getLog", "idOrName": id(log)}).want(t, http.StatusOK).list()
	if len(got) != 1 || cmp.Diff(log, got[0]) != "" {
		t.Errorf("getLog %v", got)
	}

	// Multipart: "_json" last, as a file part, and two attachments; string
	// entries of "attachments" in the JSON are ignored.
	jsonPart, _ := json.Marshal(map[string]any{"message": "with files", "attachments": []any{"/tmp/a.txt", "/tmp/b.txt"}})
	withFiles := c.multipart("POST", "/api/v1/task/"+id(task)+"/log",
		part{name: "attachments", filename: "a.txt", contentType: "text/plain", data: []byte("content of a")},
		part{name: "attachments", filename: "b.txt", contentType: "text/plain", data: []byte("content of b")},
		part{name: "_json", filename: "_json", data: jsonPart},
	).want(t, http.StatusCreated).obj()
	atts := withFiles["attachments"].([]any)
	if len(atts) != 2 || atts[0].(map[string]any)["name"] != "a.txt" {
		t.Fatalf("attachments %v", atts)
	}
	a0 := atts[0].(map[string]any)
	raw := c.do("GET", "/api/v1/log/"+id(withFiles)+"/attachment/"+id(a0)+"/download", nil).want(t, http.StatusOK).raw
	if !bytes.Equal(raw, []byte("content of a")) {
		t.Errorf("download %q", raw)
	}
	c.do("DELETE", "/api/v1/log/"+id(withFiles)+"/attachments/"+id(a0), nil).want(t, http.StatusNoContent)
	c.multipart("POST", "/api/v1/log/"+id(withFiles)+"/attachments",
		part{name: "attachments", filename: "c.txt", data: []byte("c")}).want(t, http.StatusNoContent)
	names := []any{}
	for _, a := range query(c, map[string]any{"_name": "getLog", "idOrName": id(withFiles)}).list()[0]["attachments"].([]any) {
		names = append(names, a.(map[string]any)["name"])
	}
	if d := cmp.Diff([]any{"b.txt", "c.txt"}, names); d != "" {
		t.Errorf("attachments (-want +got):\n%s", d)
	}

	logs := query(c, map[string]any{"_name": "getTask", "idOrName": id(task)}, map[string]any{"_name": "logs"},
		map[string]any{"_name": "sort", "_fields": []any{map[string]any{"_createdAt": "asc"}}}).list()
	if len(logs) != 2 || id(logs[0]) != id(log) {
		t.Errorf("task logs %v", logs)
	}
	c.do("PATCH", "/api/v1/log/"+id(log), map[string]any{"message": "edited"}).want(t, http.StatusNoContent)
	if m := query(c, map[string]any{"_name": "getLog", "idOrName": id(log)}).list()[0]["message"]; m != "edited" {
		t.Errorf("message %v", m)
	}
	c.do("DELETE", "/api/v1/log/"+id(log), nil).want(t, http.StatusNoContent)
	if n := len(query(c, map[string]any{"_name": "getLog", "idOrName": id(log)}).list()); n != 0 {
		t.Errorf("getLog after delete: %d results", n)
	}
	c.do("POST", "/api/v1/task/"+id(task)+"/log", map[string]any{}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute message is missing]")
}

func TestComments(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	a := createAlert(t, c, "c1", nil)
	cm := c.do("POST", "/api/v1/case/"+id(cs)+"/comment", map[string]any{"message": "hello"}).want(t, http.StatusCreated).obj()
	want := map[string]any{"_type": "Comment", "createdBy": thehivetest.AdminLogin, "message": "hello", "isEdited": false, "extraData": map[string]any{}}
	if d := cmp.Diff(want, cm, dynamic, ignoreKey("createdAt")); d != "" {
		t.Errorf("comment (-want +got):\n%s", d)
	}
	if _, ok := cm["_createdAt"]; ok {
		t.Error("comment has _createdAt")
	}
	c.do("POST", "/api/v1/alert/"+id(a)+"/comment", map[string]any{"message": "on alert"}).want(t, http.StatusCreated)
	if got := query(c, map[string]any{"_name": "getComment", "idOrName": id(cm)}).list(); len(got) != 1 || cmp.Diff(cm, got[0]) != "" {
		t.Errorf("getComment %v", got)
	}
	if n := len(query(c, map[string]any{"_name": "listComment"}).list()); n != 2 {
		t.Errorf("%d comments", n)
	}
	c.do("PATCH", "/api/v1/comment/"+id(cm), map[string]any{"message": "edited"}).want(t, http.StatusNoContent)
	got := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "comments"}).list()
	if len(got) != 1 || got[0]["message"] != "edited" || got[0]["isEdited"] != true || got[0]["updatedBy"] != thehivetest.AdminLogin {
		t.Errorf("case comments %v", got)
	}
	c.do("DELETE", "/api/v1/comment/"+id(cm), nil).want(t, http.StatusNoContent)
	if n := len(query(c, map[string]any{"_name": "getComment", "idOrName": id(cm)}).list()); n != 0 {
		t.Error("comment still found")
	}
	c.do("POST", "/api/v1/case/"+id(cs)+"/comment", map[string]any{}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute message is missing]")
}
