package guard

import (
	"encoding/json"
	"fmt"
	"github.com/guardsim/guardsim/internal/plant"

	"github.com/guardsim/guardsim/model"
)

// RivetError is a typed Rivet error (GCE:5-109, GERR:5-84).
type RivetError struct {
	Group, Code, Message string
	// Status, when set, is the error's HTTP status where err_into_response
	// has an arm for it that the group.code table below does not (actor.not_found
	// from 8ce69e139).
	Status int
}

func (e *RivetError) Error() string { return e.Group + "." + e.Code }

// Is reports whether err is the Rivet error group.code.
func Is(err error, group, code string) bool {
	re, ok := err.(*RivetError)
	return ok && re.Group == group && re.Code == code
}

func rivetErr(group, code, msg string) *RivetError {
	return &RivetError{Group: group, Code: code, Message: msg}
}

// The errors Guard and the gateway raise.
var (
	errRetryAttemptsExceeded = func(n int) *RivetError {
		return rivetErr("guard", "retry_attempts_exceeded", fmt.Sprintf("Retry attempts exceeded (%d).", n))
	}
	errServiceUnavailable = func() *RivetError { return rivetErr("guard", "service_unavailable", "Service unavailable.") }
	errActorNotFound      = func() *RivetError { return rivetErr("guard", "actor_not_found", "Actor not found.") }
	errActorDestroyed     = func() *RivetError { return rivetErr("guard", "actor_destroyed", "Actor destroyed.") }
	// errActorNotFoundV2 is pegboard's Actor::NotFound, which replaces both
	// from 2e22a2e61; err_into_response has no arm for it (400) until
	// 8ce69e139, which maps it to 404 (PS@8ce69e139:2336).
	errActorNotFoundV2 = func() *RivetError {
		return rivetErr("actor", "not_found", "The actor does not exist or was destroyed.")
	}
	errActorReadyTimeout = func() *RivetError {
		return rivetErr("guard", "actor_ready_timeout", "Actor did not become ready in time.")
	}
	errRequestTimeout        = func() *RivetError { return rivetErr("guard", "request_timeout", "Request timed out.") }
	errUpstreamError         = func() *RivetError { return rivetErr("guard", "upstream_error", "Upstream error.") }
	errNoRoute               = func() *RivetError { return rivetErr("guard", "no_route", "No route found.") }
	errMissingHeader         = func(h string) *RivetError { return rivetErr("guard", "missing_header", "Missing header "+h+".") }
	errDestroyedWhileWaiting = func() *RivetError {
		return rivetErr("actor", "destroyed_while_waiting_for_ready", "Actor destroyed while waiting for ready.")
	}
	errWebSocketServiceUnavailable = func() *RivetError {
		return rivetErr("guard", "websocket_service_unavailable", "WebSocket service unavailable.")
	}
	errWebSocketServiceRetry = func() *RivetError {
		return rivetErr("guard", "websocket_service_retry", "WebSocket service retry.")
	}
	// errWebSocketServiceHibernate replaces it from 4e60a30e9 (GCE@4e60a30e9).
	errWebSocketServiceHibernate = func() *RivetError {
		return rivetErr("guard", "websocket_service_hibernate", "WebSocket service hibernate.")
	}
	errWebSocketServiceTimeout = func() *RivetError {
		return rivetErr("guard", "websocket_service_timeout", "WebSocket service timed out.")
	}
	errTargetChanged = func() *RivetError { return rivetErr("guard", "target_changed", "Target changed.") }
	// The WebSocket errors from 0fe4f08fe, one per cause
	// (GW@0fe4f08fe:322-396, T2W@cb33baec8:93-100, GSS@cb33baec8:328-337).
	errWSClosedBeforeOpen = func() *RivetError {
		return rivetErr("guard", "websocket_closed_before_open", "WebSocket closed before open.")
	}
	errWSStoppedBeforeOpen = func() *RivetError {
		return rivetErr("guard", "actor_stopped_while_waiting_for_websocket_open", "Actor stopped while waiting for WebSocket open.")
	}
	errWSOpenDropped        = func() *RivetError { return rivetErr("guard", "websocket_open_dropped", "WebSocket open dropped.") }
	errWSOpenResponseClosed = func() *RivetError {
		return rivetErr("guard", "websocket_open_response_closed", "WebSocket open response closed.")
	}
	errWSOpenTimeout      = func() *RivetError { return rivetErr("guard", "websocket_open_timeout", "WebSocket open timeout.") }
	errWSGarbageCollected = func() *RivetError {
		return rivetErr("guard", "websocket_garbage_collected", "WebSocket garbage collected.")
	}
	errWSPingTimeout = func() *RivetError {
		return rivetErr("guard", "websocket_tunnel_ping_timeout", "WebSocket tunnel ping timeout.")
	}
	// Routing's errors from 0fe4f08fe (pegboard_gateway/mod.rs@cb33baec8:297-357, 656-681, 747-752).
	errRouteDispatchTimeout   = func() *RivetError { return rivetErr("guard", "route_dispatch_timeout", "Route dispatch timeout.") }
	errRouteFetchActorTimeout = func() *RivetError {
		return rivetErr("pegboard", "route_fetch_actor_timeout", "Route fetch actor timeout.")
	}
	errRouteWakeSignalTimeout = func() *RivetError {
		return rivetErr("pegboard", "route_wake_signal_timeout", "Route wake signal timeout.")
	}
	errActorWakeRetriesExceeded = func() *RivetError {
		return rivetErr("guard", "actor_wake_retries_exceeded", "Actor wake retries exceeded.")
	}
	// The gateway's HTTP errors from 82f5c9d06, one per cause
	// (GW@82f5c9d06:161-211); their statuses in statusOf (utils.rs@82f5c9d06:181-187).
	errTunnelRequestAborted     = func() *RivetError { return rivetErr("guard", "tunnel_request_aborted", "Tunnel request aborted.") }
	errTunnelResponseClosed     = func() *RivetError { return rivetErr("guard", "tunnel_response_closed", "Tunnel response closed.") }
	errActorStoppedWhileWaiting = func() *RivetError {
		return rivetErr("guard", "actor_stopped_while_waiting", "Actor stopped while waiting.")
	}
	errTunnelMessageTimeout        = func() *RivetError { return rivetErr("guard", "tunnel_message_timeout", "Tunnel message timeout.") }
	errGatewayResponseStartTimeout = func() *RivetError {
		return rivetErr("guard", "gateway_response_start_timeout", "Gateway response start timeout.")
	}
)

// internalError is a non-Rivet error: it maps to 500 core.internal_error.
type internalError struct{ msg string }

func (e *internalError) Error() string { return e.msg }

// statusOf maps an error to its HTTP status (PS:2400-2415, errata E10, E11).
func statusOf(err error) int {
	re, ok := err.(*RivetError)
	if !ok {
		return 500
	}
	if re.Status != 0 {
		return re.Status
	}
	switch re.Group + "." + re.Code {
	case "guard.rate_limit":
		return 429
	case "guard.upstream_error", "guard.routing_error", "guard.retry_attempts_exceeded":
		return 502
	case "guard.request_timeout":
		return 504
	case "guard.actor_not_found", "guard.actor_destroyed", "guard.no_route", "api.not_found":
		return 404
	case "guard.service_unavailable", "guard.actor_ready_timeout", "guard.actor_stopped_while_waiting",
		"guard.tunnel_request_aborted", "guard.tunnel_response_closed":
		return 503
	case "guard.tunnel_message_timeout", "guard.gateway_response_start_timeout":
		return 504
	case "api.unauthorized":
		return 401
	case "api.forbidden":
		return 403
	}
	return 400
}

// errIntoResponse renders an error as Guard's JSON error response
// (PS:2397-2442, APIE:76-93). Guard never sets x-rivet-error itself.
func errIntoResponse(err error, ray string) *Response {
	re, ok := err.(*RivetError)
	if !ok {
		re = rivetErr("core", "internal_error", "An internal error occurred.")
	}
	return &Response{
		Status:  statusOf(err),
		Headers: model.Headers{"content-type": "application/json", model.XRivetRayID: ray},
		Body:    errorBody(re),
	}
}

// errorBody is json.Marshal of {group, code, message}. Strings that JSON
// writes as they are (printable ASCII without quotes, backslashes or the
// HTML characters it escapes) are concatenated without the encoder.
func errorBody(re *RivetError) string {
	if plainJSON(re.Group) && plainJSON(re.Code) && plainJSON(re.Message) {
		return `{"group":"` + re.Group + `","code":"` + re.Code + `","message":"` + re.Message + `"}`
	}
	body, _ := json.Marshal(struct {
		Group   string `json:"group"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{re.Group, re.Code, re.Message})
	return string(body)
}

// plainJSON reports whether json.Marshal writes s between its quotes
// unchanged.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// closeFrame is a WebSocket close frame sent to the client.
type closeFrame struct {
	Code   uint16
	Reason string
}

// closeReasonMax is the close reason byte limit (PS:2481, 2508).
const closeReasonMax = 123

// errToCloseFrame builds the client close for an error (PS:2489-2511).
func errToCloseFrame(err error, ray string) closeFrame {
	re, ok := err.(*RivetError)
	if !ok {
		re = rivetErr("core", "internal_error", "")
	}
	code := model.CloseError
	if re.Group == "ws" && (re.Code == "connection_closed" || re.Code == "eviction") {
		code = model.CloseNormal
	}
	reason := re.Group + "." + re.Code + "#" + ray
	if plant.On(plant.GuardCloseWithoutRay) {
		reason = re.Group + "." + re.Code
	}
	if plant.On(plant.GuardErrorCloseNormal) {
		code = model.CloseNormal
	}
	if len(reason) > closeReasonMax {
		reason = reason[:closeReasonMax]
	}
	return closeFrame{code, reason}
}
