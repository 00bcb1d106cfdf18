package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// offenseAlert is the state of one offense going through QRadar2Alert.
type offenseAlert struct {
	// offense is the offense with the names and addresses of its ids.
	offense qradar.EnrichedOffense
	// events are the rows of the events query; eventsErr says why they
	// could not be read.
	events    []qradar.Row
	eventsErr error
	// remote are the remote destinations; remoteErr says why they could not
	// be read.
	remote    []qradar.RemoteDestination
	remoteErr error
	// existing is the offense's alert in TheHive, if it has one.
	existing *thehive.Alert
	// alert is the alert made from the offense.
	alert *thehive.AlertCreate

	alertID thehive.AlertID
	outcome Outcome
}

// qradar2AlertPipeline returns the steps of QRadar2Alert: find the
// offense's alert, read its first events and its remote destinations, build
// the alert, create it or update it.
func qradar2AlertPipeline(qr *qradar.Client, th *thehive.Client, cfg *QRadarConfig) *Pipeline[offenseAlert] {
	mw := []Middleware{Logging(cfg.Logger), Retry(cfg.StepRetry), Timeout(cfg.StepTimeout)}
	return NewPipeline(cfg.Name,
		findOffenseAlert(th, cfg),
		readOffenseEvents(qr, cfg),
		readRemoteDestinations(qr, cfg),
		NewStep("build-alert", func(_ context.Context, s *offenseAlert) error {
			s.alert = buildOffenseAlert(cfg, s)
			return nil
		}),
		saveOffenseAlert(th, cfg),
	).Use(mw...)
}

func findOffenseAlert(th *thehive.Client, cfg *QRadarConfig) Step[offenseAlert] {
	return NewStep("find-alert", func(ctx context.Context, s *offenseAlert) error {
		a, err := th.Alerts.GetBySourceRef(ctx, cfg.Type, cfg.Source, offenseRef(s.offense.Offense.ID))
		switch {
		case errors.Is(err, thehive.ErrNotFound):
			s.existing = nil
			return nil
		case err != nil:
			return fmt.Errorf("looking for the offense's alert: %w", err)
		}
		s.existing = a
		return nil
	})
}

func offenseRef(id qradar.OffenseID) string { return strconv.FormatInt(int64(id), 10) }

func (c *QRadarConfig) runOptions(maxRows int) *qradar.RunOptions {
	return &qradar.RunOptions{
		Wait:    qradar.WaitOptions{Timeout: c.SearchTimeout, MinInterval: c.SearchPollInterval},
		MaxRows: maxRows,
	}
}

// readOffenseEvents reads the offense's first events. A search that fails
// does not fail the offense: the alert says the events could not be read
// (see saveOffenseAlert for updates).
func readOffenseEvents(qr *qradar.Client, cfg *QRadarConfig) Step[offenseAlert] {
	return NewStep("read-events", func(ctx context.Context, s *offenseAlert) error {
		s.events, s.eventsErr = nil, nil
		o := &s.offense.Offense
		if cfg.EventLimit < 0 || o.StartTime.IsZero() {
			return nil
		}
		rows, err := qr.Ariel.Run(ctx, cfg.eventsAQL(o), cfg.runOptions(cfg.EventLimit))
		if err != nil {
			s.eventsErr = err
			return cfg.readFailed(ctx, "offense events not read", o.ID, err)
		}
		s.events = rows
		return nil
	})
}

// readRemoteDestinations reads the offense's remote destination addresses
// from its events, when it has some.
func readRemoteDestinations(qr *qradar.Client, cfg *QRadarConfig) Step[offenseAlert] {
	return NewStep("read-remote-destinations", func(ctx context.Context, s *offenseAlert) error {
		s.remote, s.remoteErr = nil, nil
		o := &s.offense.Offense
		if cfg.RemoteDestinationLimit < 0 || o.RemoteDestinationCount == 0 || o.StartTime.IsZero() {
			return nil
		}
		remote, err := qr.Ariel.RemoteDestinations(ctx, o, cfg.RemoteDestinationLimit, cfg.runOptions(0))
		if err != nil {
			s.remoteErr = err
			return cfg.readFailed(ctx, "offense remote destinations not read", o.ID, err)
		}
		s.remote = remote
		return nil
	})
}

// readFailed handles err, the failure of a read the alert can do without:
// it returns ctx's error when ctx ended, else it logs msg and returns nil,
// the alert then being made without what could not be read.
func (c *QRadarConfig) readFailed(ctx context.Context, msg string, id qradar.OffenseID, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	c.Logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("workflow", c.Name),
		slog.Int64("offense", int64(id)), slog.String("error", err.Error()))
	return nil
}

// saveOffenseAlert creates the offense's alert, or updates the existing one
// when the offense changed: the description, which holds everything the
// alert shows of the offense, differs, or tags or observables are missing.
// An alert is not updated from an offense whose events or remote
// destinations could not be read for a passing reason: the offense is left
// for the next run rather than its alert losing what it shows.
func saveOffenseAlert(th *thehive.Client, cfg *QRadarConfig) Step[offenseAlert] {
	return NewStep("save-alert", func(ctx context.Context, s *offenseAlert) error {
		if s.existing == nil {
			a, err := th.Alerts.Create(ctx, s.alert, thehive.SafeToRetry())
			switch {
			case err == nil:
				s.alertID, s.outcome = a.ID, Created
				return nil
			case !errors.Is(err, thehive.ErrDuplicate):
				return fmt.Errorf("creating the alert: %w", err)
			}
			// Created meanwhile, or by an attempt whose answer was lost.
			if s.existing, err = th.Alerts.GetBySourceRef(ctx, s.alert.Type, s.alert.Source, s.alert.SourceRef); err != nil {
				return fmt.Errorf("reading the alert TheHive already has: %w", err)
			}
		}
		s.alertID = s.existing.ID
		if cfg.SkipUpdates {
			return nil
		}
		for _, err := range []error{s.eventsErr, s.remoteErr} {
			if err != nil && IsTransient(err) {
				return fmt.Errorf("not updating alert %s from a partly read offense: %w", s.existing.ID, err)
			}
		}
		changed, err := updateOffenseAlert(ctx, th, s.existing, s.alert, cfg.Logger)
		if err != nil {
			return err
		}
		if changed {
			s.outcome = Updated
		}
		return nil
	})
}

// updateOffenseAlert brings alert a up to date with want when the offense
// changed, and reports whether it did. The description holds everything
// the alert shows of the offense, so an equal description means an
// unchanged offense: then nothing is written, whatever analysts changed on
// the alert. Otherwise the missing observables are added and the tags of
// existing ones completed, then the title, description and severity are
// set and the missing tags added; tags and observables analysts added stay.
// The description is written last, so that an update cut short is
// detected again by the next attempt.
func updateOffenseAlert(ctx context.Context, th *thehive.Client, a *thehive.Alert, want *thehive.AlertCreate, logger *slog.Logger) (bool, error) {
	if strings.TrimSpace(a.Description) == strings.TrimSpace(want.Description) {
		return false, nil
	}
	obs, err := th.Alerts.FindObservables(ctx, a.ID, nil)
	if err != nil {
		return false, fmt.Errorf("reading the observables of alert %s: %w", a.ID, err)
	}
	have := make(map[string]*thehive.Observable, len(obs))
	for i := range obs {
		have[observableKey(obs[i].DataType, obs[i].Data)] = &obs[i]
	}
	for _, g := range want.Observables {
		var missing []string
		for _, v := range g.Data {
			o, ok := have[observableKey(g.DataType, v)]
			if !ok {
				missing = append(missing, v)
				continue
			}
			if add := missingTags(g.Tags, o.Tags); len(add) > 0 {
				if err := th.Observables.Update(ctx, o.ID, &thehive.ObservableUpdate{AddTags: add}); err != nil {
					return false, fmt.Errorf("tagging observable %s of alert %s: %w", o.ID, a.ID, err)
				}
			}
		}
		if len(missing) == 0 {
			continue
		}
		in := g
		in.Data = missing
		_, err := th.Observables.AddToAlert(ctx, a.ID, &in, thehive.SafeToRetry())
		var pe *thehive.PartialError
		switch {
		case err == nil:
		case errors.As(err, &pe):
			for _, f := range pe.Failures {
				if !f.Duplicate() {
					logger.LogAttrs(ctx, slog.LevelWarn, "observable refused", slog.String("alert", string(a.ID)),
						slog.String("dataType", g.DataType), slog.String("type", f.Type), slog.String("message", f.Message))
				}
			}
		case errors.Is(err, thehive.ErrDuplicate):
		case errors.Is(err, thehive.ErrBadRequest):
			logger.LogAttrs(ctx, slog.LevelWarn, "observables refused", slog.String("alert", string(a.ID)),
				slog.String("dataType", g.DataType), slog.String("error", err.Error()))
		default:
			return false, fmt.Errorf("adding %s observables to alert %s: %w", g.DataType, a.ID, err)
		}
	}

	u := thehive.AlertUpdate{Title: &want.Title, Description: &want.Description}
	if a.Severity != want.Severity {
		u.Severity = &want.Severity
	}
	if want.ExternalLink != "" && a.ExternalLink != want.ExternalLink {
		u.ExternalLink = &want.ExternalLink
	}
	u.AddTags = missingTags(want.Tags, a.Tags)
	if err := th.Alerts.Update(ctx, a.ID, &u); err != nil {
		return false, fmt.Errorf("updating alert %s: %w", a.ID, err)
	}
	return true, nil
}

// missingTags returns the tags of want that have lacks.
func missingTags(want, have []string) []string {
	var missing []string
	for _, t := range want {
		if !slices.Contains(have, t) {
			missing = append(missing, t)
		}
	}
	return missing
}
