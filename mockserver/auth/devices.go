package auth

import "time"

// Device-code states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceRedeemed = "redeemed"
	DeviceExpired  = "expired"
)

// DeviceCode is what the store knows of a device authorization (RFC 8628):
// the device_code's SHA-256 and the user code.
type DeviceCode struct {
	Hash      []byte
	ID        string // a random name for events
	UserCode  string // 8 letters, without the dash
	ClientID  string
	Scope     string
	Resource  string
	Interval  time.Duration
	LastPoll  time.Time
	Status    string
	UserID    int64
	Username  string
	IssuedAt  time.Time
	ExpiresAt time.Time
	FamilyID  string
}

// DevicePoll is one poll of the token endpoint with a device code.
type DevicePoll struct {
	Hash     []byte
	ClientID string
	Now      time.Time
	Start    Starter
}
