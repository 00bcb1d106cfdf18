package thehive

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Analyzer is a Cortex analyzer available through TheHive.
type Analyzer struct {
	// ID is the analyzer's id in Cortex, used to run it.
	ID          string `json:"id"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description"`
	// DataTypes lists the observable data types the analyzer accepts.
	DataTypes []string `json:"dataTypeList,omitempty"`
	// CortexIDs lists the Cortex servers offering the analyzer.
	CortexIDs []string `json:"cortexIds,omitempty"`
}

// Job is a Cortex analyzer job run on an observable.
type Job struct {
	ID                 JobID     `json:"_id"`
	CreatedBy          string    `json:"_createdBy"`
	CreatedAt          time.Time `json:"-"` // _createdAt
	UpdatedBy          string    `json:"_updatedBy,omitempty"`
	UpdatedAt          time.Time `json:"-"` // _updatedAt
	AnalyzerID         string    `json:"analyzerId"`
	AnalyzerName       string    `json:"analyzerName"`
	AnalyzerDefinition string    `json:"analyzerDefinition"`
	Status             JobStatus `json:"status"`
	StartDate          time.Time `json:"-"` // startDate
	EndDate            time.Time `json:"-"` // endDate
	// Report is the analyzer's report once the job is done: on success
	// {"success": true, "full": {...}, ...}.
	Report      json.RawMessage `json:"report,omitempty"`
	CortexID    string          `json:"cortexId"`
	CortexJobID string          `json:"cortexJobId"`
}

func (j *Job) times() []timeField {
	return []timeField{
		{"_createdAt", &j.CreatedAt}, {"_updatedAt", &j.UpdatedAt},
		{"startDate", &j.StartDate}, {"endDate", &j.EndDate},
	}
}

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (j *Job) UnmarshalJSON(b []byte) error {
	type plain Job
	return unmarshalWithTimes(b, (*plain)(j), j.times())
}

// MarshalJSON encodes j as TheHive does, dates in epoch milliseconds.
func (j Job) MarshalJSON() ([]byte, error) {
	type plain Job
	return marshalWithTimes((*plain)(&j), j.times())
}

// JobCreate runs an analyzer on an observable.
type JobCreate struct {
	// AnalyzerID and CortexID name the analyzer and the Cortex server
	// (see [CortexService.ListAnalyzers]). Required.
	AnalyzerID string
	CortexID   string
	// ObservableID is the observable to analyse; it must belong to a case.
	ObservableID ObservableID
	// Parameters are passed to the analyzer.
	Parameters map[string]any
}

// CortexService runs Cortex analyzers through TheHive's Cortex connector.
type CortexService service

// ListAnalyzers returns the analyzers of the connected Cortex servers (GET
// /api/v1/connector/cortex/analyzer); an empty list when none is
// connected.
func (s *CortexService) ListAnalyzers(ctx context.Context, opts ...CallOption) ([]Analyzer, error) {
	var out []Analyzer
	if err := s.c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/connector/cortex/analyzer"}, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// AnalyzersFor returns the analyzers accepting observables of dataType
// (GET /api/v1/connector/cortex/analyzer/type/{dataType}).
func (s *CortexService) AnalyzersFor(ctx context.Context, dataType string, opts ...CallOption) ([]Analyzer, error) {
	path, err := pathf("/api/v1/connector/cortex/analyzer/type/%s", dataType)
	if err != nil {
		return nil, err
	}
	var out []Analyzer
	if err := s.c.doJSON(ctx, request{method: http.MethodGet, path: path}, &out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// RunAnalyzer starts an analyzer job on an observable (POST
// /api/v1/connector/cortex/job). The job runs in Cortex: read it with
// [CortexService.GetJob] or wait for it with [CortexService.WaitJob].
func (s *CortexService) RunAnalyzer(ctx context.Context, in *JobCreate, opts ...CallOption) (*Job, error) {
	if in == nil {
		return nil, invalid("cortex job: nil JobCreate")
	}
	for _, f := range []struct{ name, v string }{
		{"analyzer id", in.AnalyzerID}, {"cortex id", in.CortexID}, {"observable id", string(in.ObservableID)},
	} {
		if strings.TrimSpace(f.v) == "" {
			return nil, invalid("cortex job: %s is required", f.name)
		}
	}
	b := body{"analyzerId": in.AnalyzerID, "cortexId": in.CortexID, "artifactId": string(in.ObservableID)}
	if len(in.Parameters) > 0 {
		b["parameters"] = in.Parameters
	}
	return send[Job](ctx, s.c, request{method: http.MethodPost, path: "/api/v1/connector/cortex/job", in: b}, opts)
}

// GetJob reads a job (GET /api/v1/connector/cortex/job/{id}).
func (s *CortexService) GetJob(ctx context.Context, id JobID, opts ...CallOption) (*Job, error) {
	return get[Job](ctx, s.c, "/api/v1/connector/cortex/job/%s", string(id), opts)
}

// WaitJob reads a job every interval until it is done (Success, Failure or
// Deleted) or ctx ends, and returns its last state. interval defaults to
// two seconds.
func (s *CortexService) WaitJob(ctx context.Context, id JobID, interval time.Duration, opts ...CallOption) (*Job, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		j, err := s.GetJob(ctx, id, opts...)
		if err != nil {
			return nil, err
		}
		if j.Status.Done() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}
