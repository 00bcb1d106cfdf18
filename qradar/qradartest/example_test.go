package qradartest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/synapse-go/synapse/qradar/qradartest"
)

// The fake serves QRadar's API: here a filtered, paged offense list read
// with the SEC token.
func Example() {
	srv := qradartest.New()
	for _, magnitude := range []int{3, 8, 9} {
		if _, err := srv.AddOffense(qradartest.Offense{Description: "Port scan\n", Magnitude: magnitude}); err != nil {
			fmt.Println(err)
			return
		}
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	q := url.Values{"filter": {"magnitude >= 5"}, "fields": {"id,magnitude"}, "sort": {"-magnitude"}}
	req, _ := http.NewRequest("GET", ts.URL+"/api/siem/offenses?"+q.Encode(), nil)
	req.Header.Set("SEC", qradartest.Token)
	req.Header.Set("Range", "items=0-0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var page []map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Range"), page)
	fmt.Println(srv.Requests("GET /api/siem/offenses"))
	// Output:
	// 200 items 0-0/2 [map[id:3 magnitude:9]]
	// 1
}

// Without credentials the fake answers as QRadar does: 401 with code 18.
func Example_unauthorized() {
	srv := qradartest.New()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/api/siem/offenses")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body struct {
		HTTPResponse struct {
			Code int `json:"code"`
		} `json:"http_response"`
		Code int `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, body.HTTPResponse.Code, body.Code)
	// Output: 401 401 18
}

// Canned Ariel searches complete after a number of status reads.
func ExampleServer_AddSearch() {
	srv := qradartest.New()
	err := srv.AddSearch(qradartest.Search{
		AQL:   "SELECT sourceip FROM events LAST 5 MINUTES",
		Rows:  []map[string]any{{"sourceip": "10.0.0.1"}},
		Polls: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	do := func(method, path string) map[string]any {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		req.Header.Set("SEC", qradartest.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	s := do("POST", "/api/ariel/searches?query_expression="+url.QueryEscape("SELECT sourceip FROM events LAST 5 MINUTES"))
	id := s["search_id"].(string)
	fmt.Println(s["status"])
	fmt.Println(do("GET", "/api/ariel/searches/"+id)["status"])
	fmt.Println(do("GET", "/api/ariel/searches/"+id)["status"])
	fmt.Println(do("GET", "/api/ariel/searches/"+id+"/results"))
	// Output:
	// WAIT
	// EXECUTE
	// COMPLETED
	// map[events:[map[sourceip:10.0.0.1]]]
}
