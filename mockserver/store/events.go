package store

import (
	"context"
	"database/sql"
	"time"
)

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
	EventAccessRejected  = "access_rejected"
	EventClock           = "clock_moved"
)

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
	// Count is how many identical events this row stands for (see
	// AddRejection); 1 for most.
	Count int64 `json:"count"`
}

// AddEvents appends events to the log.
func (db *DB) AddEvents(ctx context.Context, events ...Event) error {
	return db.tx(ctx, func(tx wtx) error { return addEvents(ctx, tx, events...) })
}

const qInsertEvent = `INSERT INTO events (at, kind, username, family_id, jti, reason) VALUES (?, ?, ?, ?, ?, ?)`

func addEvents(ctx context.Context, tx wtx, events ...Event) error {
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, qInsertEvent,
			e.At.UnixNano(), e.Kind, e.Username, e.FamilyID, e.JTI, e.Reason); err != nil {
			return err
		}
	}
	return nil
}

// Events returns up to limit events with an ID above after, oldest first.
func (db *DB) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, kind, username, family_id, jti, reason, count
		FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		var e Event
		var at sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Username, &e.FamilyID, &e.JTI, &e.Reason, &e.Count); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		events = append(events, e)
	}
	return events, rows.Err()
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
)
