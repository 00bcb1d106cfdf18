package qradar_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

// exampleConsole starts a fake console with two offenses and returns it
// with a client for it and a function that stops it.
func exampleConsole() (*qradartest.Server, *qradar.Client, func(), error) {
	srv := qradartest.New()
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, ip := range []string{"10.0.0.5", "10.0.0.9"} {
		src, _ := srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: ip})
		_, _ = srv.AddOffense(qradartest.Offense{
			Description:      "Multiple Login Failures for the Same User\n",
			OffenseType:      3,
			OffenseSource:    "alice",
			Magnitude:        6 + i,
			StartTime:        start,
			LastUpdatedTime:  start.Add(time.Duration(i+1) * time.Minute),
			SourceAddressIDs: []int64{src},
		})
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, nil, nil, err
	}
	c, err := qradar.NewClient(srv.URL(), qradar.WithToken(qradartest.Token))
	if err != nil {
		srv.Close()
		return nil, nil, nil, err
	}
	return srv, c, srv.Close, nil
}

// List the open offenses updated since a watermark, page by page, and
// resolve their types and addresses in batches.
func Example() {
	_, c, stop, err := exampleConsole()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	since := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var offenses []qradar.Offense
	for o, err := range c.Offenses.ListAll(ctx, &qradar.OffenseListOptions{
		Filter: qradar.And(qradar.Gt("last_updated_time", since), qradar.Eq("status", qradar.StatusOpen)),
		Sort:   "+id",
	}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		offenses = append(offenses, o)
	}
	enriched, err := c.Offenses.Enrich(ctx, offenses, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range enriched {
		fmt.Println(e.Offense.ID, e.Offense.LastUpdatedTime.Format(time.TimeOnly), e.TypeName, e.Offense.OffenseSource, e.SourceIPs)
	}
	// Output:
	// 1 12:01:00 Username alice [10.0.0.5]
	// 2 12:02:00 Username alice [10.0.0.9]
}

// Close an offense with a closing reason found by name, and leave a note.
func ExampleOffensesService_Close() {
	srv, c, stop, err := exampleConsole()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	reason, err := c.ClosingReasons.FindByName(ctx, "false-positive, tuned")
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := c.Offenses.Close(ctx, 1, reason.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.Status, o.ClosingReasonID)
	if _, err := c.Offenses.AddNote(ctx, 1, "Closed from TheHive case #12: false positive"); err != nil {
		fmt.Println(err)
		return
	}

	// A second close is recognised.
	_, err = c.Offenses.Close(ctx, 1, reason.ID)
	fmt.Println(errors.Is(err, qradar.ErrAlreadyClosed))
	fmt.Println(srv.Notes(1)[0].Username)
	// Output:
	// CLOSED 2
	// true
	// API_user: qradartest
}

// Run one AQL query and read its rows.
func ExampleArielService_Run() {
	srv, c, stop, err := exampleConsole()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	const aql = "SELECT sourceip, COUNT(*) AS hits FROM events GROUP BY sourceip ORDER BY hits DESC LAST 1 HOURS"
	_ = srv.AddSearch(qradartest.Search{AQL: aql, Polls: 2, Rows: []map[string]any{
		{"sourceip": "10.0.0.5", "hits": 41},
		{"sourceip": "10.0.0.9", "hits": 3},
	}})

	rows, err := c.Ariel.Run(context.Background(), aql, &qradar.RunOptions{
		Wait: qradar.WaitOptions{MinInterval: 10 * time.Millisecond, Timeout: time.Minute},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		hits, _ := r.Int64("hits")
		fmt.Println(r.String("sourceip"), hits)
	}
	fmt.Println(len(srv.Searches()), "searches left")
	// Output:
	// 10.0.0.5 41
	// 10.0.0.9 3
	// 0 searches left
}

// Errors carry QRadar's status and code and match sentinels.
func ExampleAPIError() {
	_, c, stop, err := exampleConsole()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	_, err = c.Offenses.Get(context.Background(), 404)
	var apiErr *qradar.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, errors.Is(err, qradar.ErrNotFound))
	}
	// Output: 404 1002 true
}

func ExampleIn() {
	f := qradar.And(qradar.In("id", []qradar.AddressID{3, 5, 8}), qradar.Ne("network", "other"))
	fmt.Println(f)
	// Output: id in (3,5,8) and network != "other"
}
