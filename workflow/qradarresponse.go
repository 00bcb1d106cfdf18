package workflow

import (
	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// QRadar2AlertResponse is the original Synapse's answer to
// POST /QRadar2alert, kept for the scripts that read it:
//
//	{"offenses":[{"qradar_offense_id":211,"raised_alert_id":"~4120","success":true}],"success":true}
//
// A failed offense is {"message":"...","offense_id":213,"success":false}
// and makes the whole answer unsuccessful; a failure to list the offenses
// is {"message":"...: Failed to create alert from offense","offenses":[],"success":false}.
// Keys come in alphabetical order, as the original's JSON did. Offenses whose
// alert was already up to date are left out, as the original left out those
// already imported.
type QRadar2AlertResponse struct {
	// Message says why the listing failed.
	Message string `json:"message,omitempty"`
	// Offenses lists the offenses whose alert was created or updated, and
	// those that failed.
	Offenses []QRadar2AlertOffense `json:"offenses"`
	// Success is false when anything failed.
	Success bool `json:"success"`
}

// QRadar2AlertOffense is one offense of a QRadar2AlertResponse.
type QRadar2AlertOffense struct {
	// Message says why the offense failed.
	Message string `json:"message,omitempty"`
	// OffenseID is the id of an offense that failed.
	OffenseID qradar.OffenseID `json:"offense_id,omitempty"`
	// QRadarOffenseID is the id of an offense whose alert was created or
	// updated, and RaisedAlertID the alert's.
	QRadarOffenseID qradar.OffenseID `json:"qradar_offense_id,omitempty"`
	RaisedAlertID   thehive.AlertID  `json:"raised_alert_id,omitempty"`
	// Success tells whether the offense was handled.
	Success bool `json:"success"`
}

// NewQRadar2AlertResponse returns the original's answer for what
// QRadar2Alert.RunTimerange returned.
func NewQRadar2AlertResponse(results []OffenseResult, err error) QRadar2AlertResponse {
	r := QRadar2AlertResponse{Offenses: []QRadar2AlertOffense{}, Success: err == nil}
	if err != nil {
		r.Message = err.Error() + ": Failed to create alert from offense"
	}
	for _, res := range results {
		switch {
		case res.Err != nil:
			r.Success = false
			r.Offenses = append(r.Offenses, QRadar2AlertOffense{
				Message:   res.Err.Error() + ": Couldn't raise alert in TheHive",
				OffenseID: res.OffenseID,
			})
		case res.Outcome == Created || res.Outcome == Updated:
			r.Offenses = append(r.Offenses, QRadar2AlertOffense{
				QRadarOffenseID: res.OffenseID,
				RaisedAlertID:   res.AlertID,
				Success:         true,
			})
		}
	}
	return r
}

// StatusCode returns the HTTP status of the answer, as the original's: 200
// when everything succeeded, else 500.
func (r QRadar2AlertResponse) StatusCode() int {
	if r.Success {
		return 200
	}
	return 500
}
