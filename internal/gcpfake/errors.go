package gcpfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is an error answered in Google's JSON error envelope, the shape
// googleapi.CheckResponse parses into *googleapi.Error (and apierror wraps):
//
//	{"error":{"code":404,"message":"…","status":"NOT_FOUND",
//	          "errors":[{"domain":"global","reason":"notFound","message":"…"}]}}
type apiError struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message)
}

func newAPIError(code int, reason, format string, args ...any) *apiError {
	return &apiError{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Constructors for the errors GCP answers most, with its reason strings.

func errNotFound(format string, args ...any) *apiError {
	return newAPIError(http.StatusNotFound, "notFound", format, args...)
}

func errResourceNotFound(key string) *apiError {
	return errNotFound("The resource '%s' was not found", key)
}

func errAlreadyExists(key string) *apiError {
	return newAPIError(http.StatusConflict, "alreadyExists", "The resource '%s' already exists", key)
}

func errInvalid(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "invalid", format, args...)
}

// errInvalidField mirrors compute's "Invalid value for field 'resource.x': 'v'. why".
func errInvalidField(field, value, why string) *apiError {
	return errInvalid("Invalid value for field '%s': '%s'. %s", field, value, why)
}

func errRequired(field string) *apiError {
	return newAPIError(http.StatusBadRequest, "required", "Required field '%s' not specified", field)
}

func errInUse(singular, key, user string) *apiError {
	return newAPIError(http.StatusBadRequest, "resourceInUseByAnotherResource",
		"The %s resource '%s' is already being used by '%s'", singular, key, user)
}

func errConditionNotMet(format string, args ...any) *apiError {
	return newAPIError(http.StatusPreconditionFailed, "conditionNotMet", format, args...)
}

func errNotImplemented(what string) *apiError {
	return newAPIError(http.StatusNotImplemented, "notImplemented", "gcpfake does not implement %s", what)
}

// statusText gives the canonical google.rpc status name GCP puts next to
// the HTTP code.
func statusText(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ALREADY_EXISTS"
	case http.StatusPreconditionFailed:
		return "FAILED_PRECONDITION"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

type errorItem struct {
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status"`
}

// asAPIError turns any error into an apiError; errors that are not API
// errors are internal failures of the fake and surface as 500.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return newAPIError(http.StatusInternalServerError, "backendError", "gcpfake internal error: %v", err)
}

func writeError(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	body := struct {
		Error errorBody `json:"error"`
	}{errorBody{
		Code:    ae.Code,
		Message: ae.Message,
		Errors:  []errorItem{{Domain: "global", Reason: ae.Reason, Message: ae.Message}},
		Status:  statusText(ae.Code),
	}}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(ae.Code)
	_, _ = w.Write(b)
}
