package workflow

import (
	"fmt"
	"log/slog"
)

// QRadarWorkflowConfig configures a qradar2alert workflow.
type QRadarWorkflowConfig struct {
	WorkflowSettings `yaml:",inline"`
}

func (q *QRadarWorkflowConfig) check(d *decoder, key string) {}

// CloseWorkflowConfig configures a close_offenses workflow: closing QRadar
// offenses when TheHive closes their case, on TheHive's webhook.
type CloseWorkflowConfig struct {
	WorkflowSettings `yaml:",inline"`
	// Sources names the QRadar sources whose offenses are closed (default:
	// the one named by source).
	Sources []string `yaml:"sources"`
}

func (c *CloseWorkflowConfig) sourceNames() []string {
	if len(c.Sources) > 0 {
		return c.Sources
	}
	return []string{c.Source}
}

func (c *CloseWorkflowConfig) check(d *decoder, key string) {}

func (a *App) addQRadar(w *WorkflowConfig, logger *slog.Logger) error {
	return fmt.Errorf("qradar2alert workflows are not wired yet")
}

func (a *App) addCloser(w *WorkflowConfig, logger *slog.Logger) error {
	return fmt.Errorf("close_offenses workflows are not wired yet")
}
