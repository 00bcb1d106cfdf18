package thehive_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
)

var t0 = time.UnixMilli(1700000000000).UTC()

// pinCase pins the exact request one operation sends.
type pinCase struct {
	name   string
	answer answer
	call   func(context.Context, *thehive.Client) error
	method string
	path   string // without the base path
	query  string
	body   string // expected JSON body, "" for none
}

func ok(status int, body string) answer { return answer{status: status, body: body} }

var noContent = answer{status: http.StatusNoContent}

// drop discards a result so that a call fits pinCase.call.
func drop[T any](_ T, err error) error { return err }

func pinCases() []pinCase {
	return []pinCase{
		// Cases.
		{
			name:   "cases create from template",
			answer: ok(201, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Create(ctx, &thehive.CaseCreate{
					Title: "Phishing", Description: "Reported by a user", Template: "Phishing",
					Severity: thehive.SeverityHigh, TLP: thehive.Ptr(thehive.TLPClear), PAP: thehive.Ptr(thehive.PAPGreen),
					StartDate: t0, Tags: []string{"phishing", "mail"}, Flag: true, Status: thehive.CaseStatusInProgress,
					Assignee: "analyst@soc", Summary: "s",
					CustomFields: thehive.CustomFields{"synapse-thread": "AAQkAD", "received": t0, "score": 3},
					Tasks:        []thehive.TaskCreate{{Title: "Communication", StartDate: t0}, {Title: "Analysis", Group: "triage", Mandatory: true}},
				}))
			},
			method: "POST", path: "/api/v1/case",
			body: `{"title":"Phishing","description":"Reported by a user","caseTemplate":"Phishing","severity":3,"tlp":0,"pap":1,
				"startDate":1700000000000,"tags":["phishing","mail"],"flag":true,"status":"InProgress","assignee":"analyst@soc","summary":"s",
				"customFields":{"synapse-thread":"AAQkAD","received":1700000000000,"score":3},
				"tasks":[{"title":"Communication","startDate":1700000000000},{"title":"Analysis","group":"triage","mandatory":true}]}`,
		},
		{
			name:   "cases create minimal",
			answer: ok(201, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Create(ctx, &thehive.CaseCreate{Title: "t", Description: "d"}))
			},
			method: "POST", path: "/api/v1/case", body: `{"title":"t","description":"d"}`,
		},
		{
			name:   "cases get",
			answer: ok(200, caseJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Cases.Get(ctx, "~4104")) },
			method: "GET", path: "/api/v1/case/~4104",
		},
		{
			name:   "cases get by number",
			answer: ok(200, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Get(ctx, thehive.CaseNumber(7)))
			},
			method: "GET", path: "/api/v1/case/7",
		},
		{
			name:   "cases update",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Cases.Update(ctx, "~4104", &thehive.CaseUpdate{
					Title: thehive.Ptr("new"), Severity: thehive.Ptr(thehive.SeverityCritical), TLP: thehive.Ptr(thehive.TLPClear),
					Flag: thehive.Ptr(false), Tags: thehive.Ptr([]string{}), AddTags: []string{"x"},
					EndDate: thehive.Ptr(t0), CustomFields: thehive.CustomFields{"synapse-thread": "T1"},
					Remove: []string{"summary", "assignee"},
				})
			},
			method: "PATCH", path: "/api/v1/case/~4104",
			body: `{"title":"new","severity":4,"tlp":0,"flag":false,"tags":[],"addTags":["x"],"endDate":1700000000000,
				"customFields":{"synapse-thread":"T1"},"summary":null,"assignee":null}`,
		},
		{
			name:   "cases delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Cases.Delete(ctx, "~4104") },
			method: "DELETE", path: "/api/v1/case/~4104",
		},
		{
			name:   "cases assign",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Cases.Assign(ctx, "~4104", "analyst@soc") },
			method: "PATCH", path: "/api/v1/case/~4104", body: `{"assignee":"analyst@soc"}`,
		},
		{
			name:   "cases close",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Cases.Close(ctx, "~4104", thehive.CaseClose{Status: thehive.CaseStatusTruePositive, ImpactStatus: thehive.ImpactWith, Summary: "done"})
			},
			method: "PATCH", path: "/api/v1/case/~4104", body: `{"status":"TruePositive","impactStatus":"WithImpact","summary":"done"}`,
		},
		{
			name:   "cases close default impact",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Cases.Close(ctx, "~4104", thehive.CaseClose{Status: thehive.CaseStatusFalsePositive})
			},
			method: "PATCH", path: "/api/v1/case/~4104", body: `{"status":"FalsePositive","impactStatus":"NotApplicable"}`,
		},
		{
			name:   "cases reopen",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Cases.Reopen(ctx, "~4104") },
			method: "PATCH", path: "/api/v1/case/~4104", body: `{"status":"InProgress"}`,
		},
		{
			name:   "cases merge",
			answer: ok(201, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Merge(ctx, []thehive.CaseID{"~1", "~2", "3"}))
			},
			method: "POST", path: "/api/v1/case/_merge/~1,~2,3",
		},
		{
			name:   "cases find",
			answer: ok(200, list(caseJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Find(ctx, &thehive.Query{
					Filter: thehive.And(thehive.Eq("status", thehive.CaseStatusNew), thehive.Gte("_createdAt", t0)),
					Sort:   []thehive.Sort{thehive.Desc("_createdAt"), thehive.Asc("title")},
					From:   10, Limit: 5, ExtraData: []string{"alertCount"},
				}))
			},
			method: "POST", path: "/api/v1/query", query: "name=cases",
			body: `{"query":[{"_name":"listCase"},
				{"_name":"filter","_and":[{"_eq":{"_field":"status","_value":"New"}},{"_gte":{"_field":"_createdAt","_value":1700000000000}}]},
				{"_name":"sort","_fields":[{"_createdAt":"desc"},{"title":"asc"}]},
				{"_name":"page","from":10,"to":15,"extraData":["alertCount"]}]}`,
		},
		{
			name:   "cases find everything",
			answer: ok(200, "[]"),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Cases.Find(ctx, nil)) },
			method: "POST", path: "/api/v1/query", query: "name=cases", body: `{"query":[{"_name":"listCase"}]}`,
		},
		{
			name:   "cases count",
			answer: ok(200, "42"),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.Count(ctx, thehive.Eq("stage", thehive.StageClosed)))
			},
			method: "POST", path: "/api/v1/query", query: "name=cases.count",
			body: `{"query":[{"_name":"listCase"},{"_name":"filter","_eq":{"_field":"stage","_value":"Closed"}},{"_name":"count"}]}`,
		},
		{
			name:   "cases find by custom field",
			answer: ok(200, list(caseJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.FindByCustomField(ctx, "synapse-thread", "AAQkAD"))
			},
			method: "POST", path: "/api/v1/query", query: "name=cases",
			body: `{"query":[{"_name":"listCase"},{"_name":"filter","_eq":{"_field":"customFields.synapse-thread","_value":"AAQkAD"}},
				{"_name":"sort","_fields":[{"_createdAt":"desc"}]}]}`,
		},
		{
			name:   "cases find tasks",
			answer: ok(200, list(taskJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.FindTasks(ctx, "~4104", &thehive.Query{Filter: thehive.Eq("title", "Communication")}))
			},
			method: "POST", path: "/api/v1/query", query: "name=case-tasks",
			body: `{"query":[{"_name":"getCase","idOrName":"~4104"},{"_name":"tasks"},{"_name":"filter","_eq":{"_field":"title","_value":"Communication"}}]}`,
		},
		{
			name:   "cases find observables",
			answer: ok(200, list(observableJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.FindObservables(ctx, "~4104", nil))
			},
			method: "POST", path: "/api/v1/query", query: "name=case-observables",
			body: `{"query":[{"_name":"getCase","idOrName":"~4104"},{"_name":"observables"}]}`,
		},
		{
			name:   "cases find alerts",
			answer: ok(200, list(alertJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.FindAlerts(ctx, "~4104", &thehive.Query{Filter: thehive.Eq("source", "QRadar_Offenses")}))
			},
			method: "POST", path: "/api/v1/query", query: "name=case-alerts",
			body: `{"query":[{"_name":"getCase","idOrName":"~4104"},{"_name":"alerts"},{"_name":"filter","_eq":{"_field":"source","_value":"QRadar_Offenses"}}]}`,
		},
		{
			name:   "cases find comments",
			answer: ok(200, list(commentJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cases.FindComments(ctx, "~4104", nil))
			},
			method: "POST", path: "/api/v1/query", query: "name=case-comments",
			body: `{"query":[{"_name":"getCase","idOrName":"~4104"},{"_name":"comments"}]}`,
		},

		// Alerts.
		{
			name:   "alerts create with observables",
			answer: ok(201, alertJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.Create(ctx, &thehive.AlertCreate{
					Type: "external", Source: "QRadar_Offenses", SourceRef: "211", Title: "Offense 211", Description: "d",
					ExternalLink: "https://qradar/211", Severity: thehive.SeverityLow, TLP: thehive.Ptr(thehive.TLPAmberStrict),
					Date: t0, Tags: []string{"QRadar"}, CaseTemplate: "QRadar Offense",
					CustomFields: thehive.CustomFields{"offense-id": 211},
					Observables: []thehive.ObservableCreate{
						{DataType: thehive.DataIP, Data: []string{"10.0.0.1"}, Tags: []string{"src"}, IOC: true},
						{DataType: "other", Data: []string{"bob", "alice"}, Message: "usernames"},
					},
				}))
			},
			method: "POST", path: "/api/v1/alert",
			body: `{"type":"external","source":"QRadar_Offenses","sourceRef":"211","title":"Offense 211","description":"d",
				"externalLink":"https://qradar/211","severity":1,"tlp":3,"date":1700000000000,"tags":["QRadar"],
				"caseTemplate":"QRadar Offense","customFields":{"offense-id":211},
				"observables":[{"dataType":"ip","data":"10.0.0.1","tags":["src"],"ioc":true},
				{"dataType":"other","data":["bob","alice"],"message":"usernames"}]}`,
		},
		{
			name:   "alerts get",
			answer: ok(200, alertJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Alerts.Get(ctx, "~8200")) },
			method: "GET", path: "/api/v1/alert/~8200",
		},
		{
			name:   "alerts get by source ref",
			answer: ok(200, list(alertJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.GetBySourceRef(ctx, "external", "QRadar_Offenses", "211"))
			},
			method: "POST", path: "/api/v1/query", query: "name=alerts",
			body: `{"query":[{"_name":"listAlert"},{"_name":"filter","_and":[{"_eq":{"_field":"type","_value":"external"}},
				{"_eq":{"_field":"source","_value":"QRadar_Offenses"}},{"_eq":{"_field":"sourceRef","_value":"211"}}]},
				{"_name":"page","from":0,"to":2}]}`,
		},
		{
			name:   "alerts update",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Alerts.Update(ctx, "~8200", &thehive.AlertUpdate{
					Title: thehive.Ptr("Offense 211 (updated)"), Severity: thehive.Ptr(thehive.SeverityHigh),
					Status: thehive.Ptr(thehive.AlertStatus("Ignored")), LastSyncDate: thehive.Ptr(t0),
					Follow: thehive.Ptr(false), RemoveTags: []string{"old"}, Remove: []string{"assignee"},
				})
			},
			method: "PATCH", path: "/api/v1/alert/~8200",
			body: `{"title":"Offense 211 (updated)","severity":3,"status":"Ignored","lastSyncDate":1700000000000,"follow":false,
				"removeTags":["old"],"assignee":null}`,
		},
		{
			name:   "alerts delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Alerts.Delete(ctx, "~8200") },
			method: "DELETE", path: "/api/v1/alert/~8200",
		},
		{
			name:   "alerts find",
			answer: ok(200, list(alertJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.Find(ctx, &thehive.Query{Filter: thehive.Or(thehive.In("status", "New", "InProgress"), thehive.Not(thehive.Has("caseId"))), Limit: 10}))
			},
			method: "POST", path: "/api/v1/query", query: "name=alerts",
			body: `{"query":[{"_name":"listAlert"},{"_name":"filter","_or":[{"_in":{"_field":"status","_values":["New","InProgress"]}},
				{"_not":{"_has":"caseId"}}]},{"_name":"page","from":0,"to":10}]}`,
		},
		{
			name:   "alerts count",
			answer: ok(200, "3"),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Alerts.Count(ctx, thehive.Filter{})) },
			method: "POST", path: "/api/v1/query", query: "name=alerts.count",
			body: `{"query":[{"_name":"listAlert"},{"_name":"count"}]}`,
		},
		{
			name:   "alerts promote",
			answer: ok(201, caseJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Alerts.Promote(ctx, "~8200", nil)) },
			method: "POST", path: "/api/v1/alert/~8200/case", body: `{}`,
		},
		{
			name:   "alerts promote with overrides",
			answer: ok(201, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.Promote(ctx, "~8200", &thehive.AlertPromote{
					Title: "promoted", CaseTemplate: "QRadar Offense", Assignee: "analyst@soc", Severity: thehive.SeverityCritical,
				}))
			},
			method: "POST", path: "/api/v1/alert/~8200/case",
			body: `{"title":"promoted","caseTemplate":"QRadar Offense","assignee":"analyst@soc","severity":4}`,
		},
		{
			name:   "alerts merge into case",
			answer: ok(200, caseJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.MergeIntoCase(ctx, "~8200", "~4104"))
			},
			method: "POST", path: "/api/v1/alert/~8200/merge/~4104",
		},
		{
			name:   "alerts follow",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Alerts.Follow(ctx, "~8200") },
			method: "POST", path: "/api/v1/alert/~8200/follow",
		},
		{
			name:   "alerts unfollow",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Alerts.Unfollow(ctx, "~8200") },
			method: "POST", path: "/api/v1/alert/~8200/unfollow",
		},
		{
			name:   "alerts find observables",
			answer: ok(200, list(observableJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.FindObservables(ctx, "~8200", &thehive.Query{Filter: thehive.Eq("dataType", "ip")}))
			},
			method: "POST", path: "/api/v1/query", query: "name=alert-observables",
			body: `{"query":[{"_name":"getAlert","idOrName":"~8200"},{"_name":"observables"},{"_name":"filter","_eq":{"_field":"dataType","_value":"ip"}}]}`,
		},
		{
			name:   "alerts find comments",
			answer: ok(200, list(commentJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Alerts.FindComments(ctx, "~8200", nil))
			},
			method: "POST", path: "/api/v1/query", query: "name=alert-comments",
			body: `{"query":[{"_name":"getAlert","idOrName":"~8200"},{"_name":"comments"}]}`,
		},

		// Observables.
		{
			name:   "observables add to case",
			answer: ok(201, list(observableJSON, observableJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Observables.AddToCase(ctx, "~4104", &thehive.ObservableCreate{
					DataType: thehive.DataDomain, Data: []string{"a.example", "b.example"}, Message: "from mail",
					TLP: thehive.Ptr(thehive.TLPGreen), PAP: thehive.Ptr(thehive.PAPClear), Tags: []string{"mail"},
					Sighted: true, SightedAt: t0, IgnoreSimilarity: true, StartDate: t0,
				}))
			},
			method: "POST", path: "/api/v1/case/~4104/observable",
			body: `{"dataType":"domain","data":["a.example","b.example"],"message":"from mail","tlp":1,"pap":0,"tags":["mail"],
				"sighted":true,"sightedAt":1700000000000,"ignoreSimilarity":true,"startDate":1700000000000}`,
		},
		{
			name:   "observables add to alert",
			answer: ok(201, list(observableJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Observables.AddToAlert(ctx, "~8200", &thehive.ObservableCreate{DataType: "ip", Data: []string{"10.0.0.1"}}))
			},
			method: "POST", path: "/api/v1/alert/~8200/observable", body: `{"dataType":"ip","data":"10.0.0.1"}`,
		},
		{
			name:   "observables get",
			answer: ok(200, observableJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Observables.Get(ctx, "~300")) },
			method: "GET", path: "/api/v1/observable/~300",
		},
		{
			name:   "observables update",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Observables.Update(ctx, "~300", &thehive.ObservableUpdate{
					IOC: thehive.Ptr(true), Sighted: thehive.Ptr(true), TLP: thehive.Ptr(thehive.TLPRed),
					Tags: thehive.Ptr([]string{"c2"}), DataType: thehive.Ptr("fqdn"), Remove: []string{"message"},
				})
			},
			method: "PATCH", path: "/api/v1/observable/~300",
			body: `{"ioc":true,"sighted":true,"tlp":4,"tags":["c2"],"dataType":"fqdn","message":null}`,
		},
		{
			name:   "observables delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Observables.Delete(ctx, "~300") },
			method: "DELETE", path: "/api/v1/observable/~300",
		},
		{
			name:   "observables find",
			answer: ok(200, list(observableJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Observables.Find(ctx, &thehive.Query{Filter: thehive.And(thehive.Eq("ioc", true), thehive.Like("data", "example"))}))
			},
			method: "POST", path: "/api/v1/query", query: "name=observables",
			body: `{"query":[{"_name":"listObservable"},{"_name":"filter","_and":[{"_eq":{"_field":"ioc","_value":true}},{"_like":{"_field":"data","_value":"example"}}]}]}`,
		},
		{
			name:   "observables count",
			answer: ok(200, "7"),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Observables.Count(ctx, thehive.Eq("ioc", true)))
			},
			method: "POST", path: "/api/v1/query", query: "name=observable.count",
			body: `{"query":[{"_name":"listObservable"},{"_name":"filter","_eq":{"_field":"ioc","_value":true}},{"_name":"count"}]}`,
		},
		{
			name:   "observables download attachment",
			answer: answer{status: 200, body: "file bytes"},
			call: func(ctx context.Context, c *thehive.Client) error {
				rc, err := c.Observables.DownloadAttachment(ctx, "~301", "~302")
				if err != nil {
					return err
				}
				defer rc.Close()
				_, err = io.Copy(io.Discard, rc)
				return err
			},
			method: "GET", path: "/api/v1/observable/~301/attachment/~302/download",
		},

		// Tasks.
		{
			name:   "tasks create",
			answer: ok(201, taskJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Tasks.Create(ctx, "~4104", &thehive.TaskCreate{
					Title: "Communication", Group: "mail", Description: "mails", Status: thehive.TaskInProgress,
					StartDate: t0, DueDate: t0.Add(time.Hour), Order: 2, Assignee: "analyst@soc", Flag: true,
				}))
			},
			method: "POST", path: "/api/v1/case/~4104/task",
			body: `{"title":"Communication","group":"mail","description":"mails","status":"InProgress","startDate":1700000000000,
				"dueDate":1700003600000,"order":2,"assignee":"analyst@soc","flag":true}`,
		},
		{
			name:   "tasks get",
			answer: ok(200, taskJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Tasks.Get(ctx, "~500")) },
			method: "GET", path: "/api/v1/task/~500",
		},
		{
			name:   "tasks update",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.Tasks.Update(ctx, "~500", &thehive.TaskUpdate{Status: thehive.Ptr(thehive.TaskCompleted), EndDate: thehive.Ptr(t0), Order: thehive.Ptr(0), Remove: []string{"assignee"}})
			},
			method: "PATCH", path: "/api/v1/task/~500", body: `{"status":"Completed","endDate":1700000000000,"order":0,"assignee":null}`,
		},
		{
			name:   "tasks delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Tasks.Delete(ctx, "~500") },
			method: "DELETE", path: "/api/v1/task/~500",
		},
		{
			name:   "tasks find",
			answer: ok(200, list(taskJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Tasks.Find(ctx, &thehive.Query{Filter: thehive.Eq("status", thehive.TaskWaiting)}))
			},
			method: "POST", path: "/api/v1/query", query: "name=tasks",
			body: `{"query":[{"_name":"listTask"},{"_name":"filter","_eq":{"_field":"status","_value":"Waiting"}}]}`,
		},
		{
			name:   "tasks count",
			answer: ok(200, "1"),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Tasks.Count(ctx, thehive.Filter{})) },
			method: "POST", path: "/api/v1/query", query: "name=task.count",
			body: `{"query":[{"_name":"listTask"},{"_name":"count"}]}`,
		},

		// Task logs.
		{
			name:   "task logs create",
			answer: ok(201, logJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.TaskLogs.Create(ctx, "~500", &thehive.LogCreate{Message: "From: a@b", StartDate: t0, IncludeInTimeline: t0}))
			},
			method: "POST", path: "/api/v1/task/~500/log",
			body: `{"message":"From: a@b","startDate":1700000000000,"includeInTimeline":1700000000000}`,
		},
		{
			name:   "task logs get",
			answer: ok(200, list(logJSON)),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.TaskLogs.Get(ctx, "~600")) },
			method: "POST", path: "/api/v1/query", query: "name=getLog",
			body: `{"query":[{"_name":"getLog","idOrName":"~600"}]}`,
		},
		{
			name:   "task logs update",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.TaskLogs.Update(ctx, "~600", &thehive.LogUpdate{Message: thehive.Ptr("edited")})
			},
			method: "PATCH", path: "/api/v1/log/~600", body: `{"message":"edited"}`,
		},
		{
			name:   "task logs delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.TaskLogs.Delete(ctx, "~600") },
			method: "DELETE", path: "/api/v1/log/~600",
		},
		{
			name:   "task logs find",
			answer: ok(200, list(logJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.TaskLogs.Find(ctx, "~500", &thehive.Query{Sort: []thehive.Sort{thehive.Asc("date")}}))
			},
			method: "POST", path: "/api/v1/query", query: "name=case-task-logs",
			body: `{"query":[{"_name":"getTask","idOrName":"~500"},{"_name":"logs"},{"_name":"sort","_fields":[{"date":"asc"}]}]}`,
		},
		{
			name:   "task logs download attachment",
			answer: answer{status: 200, body: "eml"},
			call: func(ctx context.Context, c *thehive.Client) error {
				rc, err := c.TaskLogs.DownloadAttachment(ctx, "~600", "~601")
				if err != nil {
					return err
				}
				return rc.Close()
			},
			method: "GET", path: "/api/v1/log/~600/attachment/~601/download",
		},

		// Comments.
		{
			name:   "comments add to case",
			answer: ok(201, commentJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Comments.AddToCase(ctx, "~4104", "looked at it"))
			},
			method: "POST", path: "/api/v1/case/~4104/comment", body: `{"message":"looked at it"}`,
		},
		{
			name:   "comments add to alert",
			answer: ok(201, commentJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Comments.AddToAlert(ctx, "~8200", "noise"))
			},
			method: "POST", path: "/api/v1/alert/~8200/comment", body: `{"message":"noise"}`,
		},
		{
			name:   "comments get",
			answer: ok(200, list(commentJSON)),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Comments.Get(ctx, "~700")) },
			method: "POST", path: "/api/v1/query", query: "name=getComment",
			body: `{"query":[{"_name":"getComment","idOrName":"~700"}]}`,
		},
		{
			name:   "comments update",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Comments.Update(ctx, "~700", "edited") },
			method: "PATCH", path: "/api/v1/comment/~700", body: `{"message":"edited"}`,
		},
		{
			name:   "comments delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.Comments.Delete(ctx, "~700") },
			method: "DELETE", path: "/api/v1/comment/~700",
		},

		// Users.
		{
			name:   "users current",
			answer: ok(200, userJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Users.Current(ctx)) },
			method: "GET", path: "/api/v1/user/current",
		},
		{
			name:   "users get",
			answer: ok(200, userJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Users.Get(ctx, "analyst@soc")) },
			method: "GET", path: "/api/v1/user/analyst@soc",
		},
		{
			name:   "users find",
			answer: ok(200, list(userJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Users.Find(ctx, &thehive.Query{Filter: thehive.And(thehive.StartsWith("login", "analyst"), thehive.EndsWith("login", "@soc"), thehive.Match("name", "Analyst"))}))
			},
			method: "POST", path: "/api/v1/query", query: "name=users",
			body: `{"query":[{"_name":"listUser"},{"_name":"filter","_and":[{"_startsWith":{"_field":"login","_value":"analyst"}},
				{"_endsWith":{"_field":"login","_value":"@soc"}},{"_match":{"_field":"name","_value":"Analyst"}}]}]}`,
		},

		// Custom fields, case templates, observable types.
		{
			name:   "custom fields list",
			answer: ok(200, list(customFieldJSON)),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.CustomFields.List(ctx)) },
			method: "GET", path: "/api/v1/customField",
		},
		{
			name:   "custom fields create",
			answer: ok(201, customFieldJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.CustomFields.Create(ctx, &thehive.CustomFieldCreate{
					Name: "synapse-thread", DisplayName: "Thread", Group: "synapse", Description: "mail thread", Type: thehive.FieldString,
				}))
			},
			method: "POST", path: "/api/v1/customField",
			body: `{"name":"synapse-thread","displayName":"Thread","group":"synapse","description":"mail thread","type":"string"}`,
		},
		{
			name:   "custom fields delete",
			answer: noContent,
			call: func(ctx context.Context, c *thehive.Client) error {
				return c.CustomFields.Delete(ctx, "synapse-thread", true)
			},
			method: "DELETE", path: "/api/v1/customField/synapse-thread", query: "force=true",
		},
		{
			name:   "case templates create",
			answer: ok(201, templateJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.CaseTemplates.Create(ctx, &thehive.CaseTemplateCreate{
					Name: "Phishing", TitlePrefix: "[PHISH]", Severity: thehive.SeverityHigh, TLP: thehive.Ptr(thehive.TLPGreen),
					Tags: []string{"phishing"}, Tasks: []thehive.TaskCreate{{Title: "Communication"}},
					CustomFields: thehive.CustomFields{"synapse-thread": nil},
				}))
			},
			method: "POST", path: "/api/v1/caseTemplate",
			body: `{"name":"Phishing","titlePrefix":"[PHISH]","severity":3,"tlp":1,"tags":["phishing"],"tasks":[{"title":"Communication"}],
				"customFields":{"synapse-thread":null}}`,
		},
		{
			name:   "case templates get",
			answer: ok(200, templateJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.CaseTemplates.Get(ctx, "Phishing")) },
			method: "GET", path: "/api/v1/caseTemplate/Phishing",
		},
		{
			name:   "case templates delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.CaseTemplates.Delete(ctx, "Phishing") },
			method: "DELETE", path: "/api/v1/caseTemplate/Phishing",
		},
		{
			name:   "case templates find",
			answer: ok(200, list(templateJSON)),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.CaseTemplates.Find(ctx, nil)) },
			method: "POST", path: "/api/v1/query", query: "name=caseTemplate",
			body: `{"query":[{"_name":"listCaseTemplate"}]}`,
		},
		{
			name:   "observable types get",
			answer: ok(200, observableTypeJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.ObservableTypes.Get(ctx, "ip")) },
			method: "GET", path: "/api/v1/observable/type/ip",
		},
		{
			name:   "observable types create",
			answer: ok(201, observableTypeJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.ObservableTypes.Create(ctx, "username", false))
			},
			method: "POST", path: "/api/v1/observable/type", body: `{"name":"username","isAttachment":false}`,
		},
		{
			name:   "observable types delete",
			answer: noContent,
			call:   func(ctx context.Context, c *thehive.Client) error { return c.ObservableTypes.Delete(ctx, "username") },
			method: "DELETE", path: "/api/v1/observable/type/username",
		},
		{
			name:   "observable types find",
			answer: ok(200, list(observableTypeJSON)),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.ObservableTypes.Find(ctx, &thehive.Query{Filter: thehive.Eq("isAttachment", true)}))
			},
			method: "POST", path: "/api/v1/query", query: "name=observableTypes",
			body: `{"query":[{"_name":"listObservableType"},{"_name":"filter","_eq":{"_field":"isAttachment","_value":true}}]}`,
		},

		// Cortex.
		{
			name:   "cortex list analyzers",
			answer: ok(200, analyzersJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Cortex.ListAnalyzers(ctx)) },
			method: "GET", path: "/api/v1/connector/cortex/analyzer",
		},
		{
			name:   "cortex analyzers for a type",
			answer: ok(200, analyzersJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Cortex.AnalyzersFor(ctx, "ip")) },
			method: "GET", path: "/api/v1/connector/cortex/analyzer/type/ip",
		},
		{
			name:   "cortex run analyzer",
			answer: ok(201, jobJSON),
			call: func(ctx context.Context, c *thehive.Client) error {
				return drop(c.Cortex.RunAnalyzer(ctx, &thehive.JobCreate{
					AnalyzerID: "abuse_finder_3_0", CortexID: "local", ObservableID: "~300", Parameters: map[string]any{"depth": 1},
				}))
			},
			method: "POST", path: "/api/v1/connector/cortex/job",
			body: `{"analyzerId":"abuse_finder_3_0","cortexId":"local","artifactId":"~300","parameters":{"depth":1}}`,
		},
		{
			name:   "cortex get job",
			answer: ok(200, jobJSON),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Cortex.GetJob(ctx, "~970")) },
			method: "GET", path: "/api/v1/connector/cortex/job/~970",
		},

		// Client.
		{
			name:   "status",
			answer: ok(200, `{"versions":{"TheHive":"5.5.13-1"},"config":{}}`),
			call:   func(ctx context.Context, c *thehive.Client) error { return drop(c.Status(ctx)) },
			method: "GET", path: "/api/v1/status",
		},
		{
			name:   "raw query",
			answer: ok(200, "[]"),
			call: func(ctx context.Context, c *thehive.Client) error {
				var out []map[string]any
				return c.RawQuery(ctx, []any{map[string]any{"_name": "listCase"}, thehive.FilterOp(thehive.ID("~1"))}, &out)
			},
			method: "POST", path: "/api/v1/query",
			body: `{"query":[{"_name":"listCase"},{"_name":"filter","_id":"~1"}]}`,
		},
	}
}

// TestRequests pins the method, path, query, headers and JSON body of every
// operation.
func TestRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range pinCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps := newPinServer(t, tc.answer)
			c := newClient(t, ps.URL+basePath+"/")
			if err := record(tc.call(ctx(t), c)); err != nil {
				t.Fatalf("call failed: %v", err)
			}
			reqs := ps.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests sent, want 1", len(reqs))
			}
			r := reqs[0]
			got := struct{ Method, Path, Query string }{r.Method, r.Path, r.Query}
			want := struct{ Method, Path, Query string }{tc.method, basePath + tc.path, tc.query}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request line (-want +got):\n%s", diff)
			}
			wantHeader := map[string]string{
				"Authorization":  "Bearer " + pinKey,
				"X-Organisation": "soc",
				"User-Agent":     thehive.DefaultUserAgent,
			}
			gotHeader := map[string]string{}
			for k := range wantHeader {
				gotHeader[k] = r.Header.Get(k)
			}
			if tc.body != "" {
				wantHeader["Content-Type"] = "application/json"
				gotHeader["Content-Type"] = r.Header.Get("Content-Type")
			}
			if diff := cmp.Diff(wantHeader, gotHeader); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			var wantBody any
			if tc.body != "" {
				wantBody = jsonOf(t, []byte(tc.body))
			}
			if diff := cmp.Diff(wantBody, jsonOf(t, r.Body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}
