package mockserver

import "github.com/tokenlab/tokenlab/mockserver/auth"

// EventKinds lists every kind of event the server writes to its log, so
// that a scenario naming one that does not exist (reuse_detect) is a load
// error instead of a check that passes or fails for ever. A new kind is
// added here.
func EventKinds() []string {
	return []string{
		auth.EventRegister, auth.EventLogin, auth.EventLoginFailed, auth.EventRefresh, auth.EventRotation,
		auth.EventRefreshRejected, auth.EventReuseDetected, auth.EventFamilyRevoked, auth.EventLogout, auth.EventTokenRevoked,
		auth.EventAccessRejected, auth.EventClock, EventKeysRotated,
		auth.EventCodeIssued, auth.EventCodeRedeemed, auth.EventCodeReused, auth.EventCodeRejected,
		auth.EventDeviceCodeIssued, auth.EventDeviceApproved, auth.EventDeviceDenied, auth.EventDeviceSlowDown,
		auth.EventDeviceExpired, auth.EventClientCredentialsIssued, auth.EventClientAuthFailed,
		auth.EventClientRegistered,
	}
}
