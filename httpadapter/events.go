package httpadapter

import (
	"strings"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
)

// The vendors' names for journal events. Where a vendor documents a name
// for what happened, it is used; the names marked "ours" stand where the
// vendor has none.

// twoNEvent is a journal event as 2N's log API shows it: its name and
// params; ok is false for an event 2N clients are not shown.
func twoNEvent(ev *journal.Event) (name string, params map[string]any, ok bool) {
	switch ev.Kind {
	case journal.Decision:
		switch ev.CredentialType {
		case "card", "ukey":
			return "CardEntered", map[string]any{"direction": "in", "card": ev.Number, "valid": ev.Granted}, true
		case "inputCode":
			return "CodeEntered", map[string]any{"direction": "in", "code": ev.Number, "valid": ev.Granted}, true
		}
		if ev.Granted {
			return "UserAuthenticated", map[string]any{"direction": "in", "user": ev.UserLinkID, "credential": ev.CredentialType}, true
		}
		return "UserRejected", map[string]any{"direction": "in", "credential": ev.CredentialType, "reason": ev.Reason}, true // ours
	case journal.Directory:
		return "DirectoryChanged", map[string]any{}, true
	case journal.Batch:
		return "AccessDataChanged", map[string]any{"entity": ev.Entity, "action": ev.Name, "count": len(ev.Items)}, true // ours
	case journal.Switch:
		if ev.Entity == device.EntityAccessPoint {
			return "AccessPointBlockingChanged", map[string]any{"accessPoint": ev.Lock, "blocked": ev.Granted}, true // ours
		}
		return "SwitchStateChanged", map[string]any{"switch": ev.Lock, "state": ev.Granted}, true
	case journal.Login:
		if ev.Name == "throttled" {
			return "LoginBlocked", map[string]any{"user": ev.UserName}, true
		}
		return "LoginFailed", map[string]any{"user": ev.UserName}, true // ours
	case journal.Panel:
		return "PanelEvent", map[string]any{"panel": ev.Source, "event": ev.Name}, true // ours
	}
	return "", nil, false
}

// twoNEventNames are the names /api/log/caps lists and subscriptions may
// filter on.
var twoNEventNames = []string{"CardEntered", "CodeEntered", "UserAuthenticated", "UserRejected", "DirectoryChanged",
	"AccessDataChanged", "SwitchStateChanged", "AccessPointBlockingChanged", "LoginBlocked", "LoginFailed", "PanelEvent"}

// basipEvent is a journal event's name in BAS-IP's log (Android panels
// 2.9 names for decisions).
func basipEvent(ev *journal.Event) string {
	switch ev.Kind {
	case journal.Decision:
		face := ev.CredentialType == "face_id"
		switch {
		case isRemote(ev.Source) && ev.Granted:
			return "access_granted_by_remote_server_api_call"
		case isRemote(ev.Source):
			return "access_denied_by_remote_server_api_call"
		case ev.CredentialType == "api" && ev.Granted: // 2N's grantaccess
			return "access_granted_by_api_call"
		case ev.CredentialType == "api":
			return "access_denied_by_web_api_call"
		case ev.Granted && face:
			return "access_granted_by_valid_face_identifier"
		case ev.Granted:
			return "access_granted_by_valid_identifier"
		case ev.Reason == "owner_removed":
			return "identifiers_without_linkage_to_user_access_denied"
		case ev.Reason == "unknown_credential" && (ev.CredentialType == "card" || ev.CredentialType == "ukey"):
			return "access_denied_by_unknown_card"
		case ev.CredentialType == "inputCode":
			return "access_denied_by_input_code"
		case face:
			return "access_denied_by_not_valid_face_identifier"
		}
		return "access_denied_by_not_valid_identifier"
	case journal.Batch:
		return "access_data_changed" // ours
	case journal.Directory:
		return "directory_changed" // ours
	case journal.Switch:
		return "switch_state_changed" // ours
	case journal.Login:
		return "login_" + strings.ToLower(ev.Name) // ours: login_failed, login_throttled
	case journal.Panel:
		return ev.Name // the panel's own name for it
	}
	return string(ev.Kind)
}

// RemoteSource is the journal Source of decisions a panel asked the
// remote access server for: "remote", or "remote:SERIAL" naming the panel.
const RemoteSource = "remote"

func isRemote(source string) bool {
	rest, ok := strings.CutPrefix(source, RemoteSource)
	return ok && (rest == "" || rest[0] == ':')
}
