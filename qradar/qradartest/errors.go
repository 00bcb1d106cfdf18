package qradartest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// httpMessages are the category texts QRadar puts in http_response.message.
// The 401, 403 and 422 texts are those of answers recorded from live
// servers; the others follow IBM's "API error messages" page.
var httpMessages = map[int]string{
	400: "Invalid syntax for this request was provided.",
	401: "You are unauthorized to access the requested resource.",
	403: "Your account is not authorized to access the requested resource",
	404: "We could not find the resource you requested.",
	405: "This method type is not currently supported.",
	406: "Acceptance header is invalid for this endpoint resource.",
	409: "The request could not be completed due to a conflict with the current state of the resource.",
	410: "The requested resource is no longer available and has been permanently removed.",
	416: "The requested range for the resource is not available.",
	422: "The request was well-formed but was unable to be followed due to semantic errors",
	500: "Unexpected internal server error",
	503: "The server is currently unavailable.",
}

// apiError is one QRadar error answer.
type apiError struct {
	status      int
	code        int
	message     string
	description string
}

type errorBody struct {
	HTTPResponse struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"http_response"`
	Code        int            `json:"code"`
	Message     string         `json:"message"`
	Description string         `json:"description"`
	Details     map[string]any `json:"details"`
}

func writeError(w http.ResponseWriter, e apiError) {
	var b errorBody
	b.HTTPResponse.Code = e.status
	b.HTTPResponse.Message = httpMessages[e.status]
	b.Code = e.code
	b.Message = e.message
	b.Description = e.description
	b.Details = map[string]any{}
	writeJSON(w, e.status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Errors shared by several endpoints.

func errUnauthorized() apiError {
	return apiError{status: 401, code: 18,
		message: `No SEC header present in request. Please provide it via "SEC: token". You may also use BASIC authentication parameters if this host supports it. e.g. "Authorization: Basic base64Encoding"`}
}

func errForbidden() apiError {
	return apiError{status: 403, code: 26, message: "User has insufficient capabilities to access this endpoint resource"}
}

func errMissingParam(name string) apiError {
	return apiError{status: 422, code: 8, message: `Missing required parameter "` + name + `" from query parameters`}
}

func errParamType(name string) apiError {
	return apiError{status: 422, code: 11, message: `Failed to transform user query parameter "` + name + `" with a content type of "TEXT_PLAIN"`}
}

func errUnknownField(name string) apiError {
	return apiError{status: 422, code: 30, message: `Specified field "` + name + `" is not recognized by this endpoint for media type "application/json"`}
}

func errInvalidParam(msg string) apiError {
	return apiError{status: 422, code: 1005, description: "A request parameter is not valid.", message: msg}
}

func errFilter(msg string) apiError {
	return apiError{status: 422, code: 1010, description: "The filter parameter is not valid.", message: msg}
}

func errRange(msg string) apiError {
	return apiError{status: 422, code: 36, message: msg}
}

func errNotFound(code int, description, msg string) apiError {
	return apiError{status: 404, code: code, description: description, message: msg}
}

// missing says how the console answers a request for an object that does
// not exist: 404, code 1002, its description and "<noun> <id> does not
// exist".
type missing struct{ description, noun string }

func (m missing) err(id int64) apiError {
	return errNotFound(1002, m.description, fmt.Sprintf("%s %d does not exist", m.noun, id))
}

var (
	missingOffense          = missing{"No offense was found for the provided offense_id.", "Offense"}
	missingClosingReason    = missing{"No closing reason was found for the provided closing_reason_id.", "Closing reason"}
	missingOffenseType      = missing{"The requested offense type cannot be found.", "Offense type"}
	missingSourceAddress    = missing{"No source address was found for the provided source_address_id.", "Source address"}
	missingLocalDestination = missing{"No local destination address was found for the provided local_destination_address_id.", "Local destination address"}
	missingRule             = missing{"The rule does not exist.", "Rule"}
	missingDomain           = missing{"The domain does not exist.", "Domain"}
)

func errInternal(description, msg string) apiError {
	return apiError{status: 500, code: 1020, description: description, message: msg}
}
