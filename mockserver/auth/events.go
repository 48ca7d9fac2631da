package auth

import "time"

// Event kinds written to the event log.
const (
	EventRegister        = "register"
	EventLogin           = "login"
	EventLoginFailed     = "login_failed"
	EventRefresh         = "refresh"
	EventRotation        = "rotation"
	EventRefreshRejected = "refresh_rejected"
	EventReuseDetected   = "reuse_detected"
	EventFamilyRevoked   = "family_revoked"
	EventLogout          = "logout"
	EventTokenRevoked    = "token_revoked" // one refresh token, not its family (a preset's RFC 7009)
	EventAccessRejected  = "access_rejected"
	EventClock           = "clock_moved"
	EventKeysRotated     = "keys_rotated"
)

// SecurityEvents are the kinds a flood of ordinary events must not push
// out of the log: signs of a stolen token and what an admin did. The
// store keeps a share of the log for the newest of them.
var SecurityEvents = []string{EventReuseDetected, EventFamilyRevoked, EventClock, EventKeysRotated}

// Event is one entry of the server's event log. It names tokens by jti,
// never by value.
type Event struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Username string    `json:"username,omitempty"`
	FamilyID string    `json:"familyId,omitempty"`
	JTI      string    `json:"jti,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// Trace is the TraceHeader of the request that caused the event, if
	// it carried one.
	Trace string `json:"trace,omitempty"`
	// ClientID is the OAuth client the event concerns: the client of its
	// family, or the one the request named.
	ClientID string `json:"clientId,omitempty"`
	// Count is how many identical events this row stands for (see
	// AddRejection); 1 for most.
	Count int64 `json:"count"`
}

// Event kinds of the login flows (authorization code, device, client
// credentials). Their Reason is a sentence that says why.
const (
	EventCodeIssued              = "code_issued"
	EventCodeRedeemed            = "code_redeemed"
	EventCodeReused              = "code_reused"
	EventCodeRejected            = "code_rejected"
	EventDeviceCodeIssued        = "device_code_issued"
	EventDeviceApproved          = "device_approved"
	EventDeviceDenied            = "device_denied"
	EventDeviceSlowDown          = "device_slow_down"
	EventDeviceExpired           = "device_expired"
	EventClientCredentialsIssued = "client_credentials_issued"
	EventClientAuthFailed        = "client_auth_failed"
	EventClientRegistered        = "client_registered"
)
