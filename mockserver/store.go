package mockserver

import (
	"context"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// Store is what the server keeps and asks for: every method it calls on
// its database and nothing more. The SQLite implementation is
// mockserver/sqlite; another (PostgreSQL, shared by several replicas)
// would implement the same methods with the same errors from package auth
// (ErrNotFound, ErrReused, ...), each method one transaction.
type Store interface {
	settingStore
	SetSettings(ctx context.Context, settings map[string][]byte) error // all or none

	CreateUser(ctx context.Context, username string, passwordHash []byte, now time.Time) (auth.User, error)
	UserByName(ctx context.Context, username string) (auth.User, error)
	SetPasswordHash(ctx context.Context, username string, hash []byte) error

	SyncClients(ctx context.Context, clients []auth.Client, now time.Time) error
	ClientByID(ctx context.Context, id string) (auth.Client, error)
	RegisterClient(ctx context.Context, c auth.Client, max int) error
	Clients(ctx context.Context, limit int) ([]auth.Client, error)
	PutClient(ctx context.Context, c auth.Client, limit int, now time.Time) error
	DeleteClient(ctx context.Context, id string) (bool, error)
	RevokeClientFamilies(ctx context.Context, clientID, reason string, now time.Time) (int, error)
	CreateCode(ctx context.Context, c auth.AuthCode, limits auth.CodeLimits) error
	RedeemCode(ctx context.Context, req auth.CodeRedeem) (auth.AuthCode, auth.Family, error)
	CreateDeviceCode(ctx context.Context, d auth.DeviceCode, limits auth.CodeLimits) error
	PendingDevice(ctx context.Context, userCode string, now time.Time) (auth.DeviceCode, error)
	DecideDevice(ctx context.Context, userCode string, userID int64, username string, approve bool, now time.Time) (auth.DeviceCode, error)
	PollDevice(ctx context.Context, req auth.DevicePoll) (auth.DeviceCode, auth.Family, error)

	StartSession(ctx context.Context, f auth.Family, first auth.RefreshToken, now time.Time) error
	Redeem(ctx context.Context, req auth.RedeemRequest) (auth.Redeemed, error)
	RevokeFamily(ctx context.Context, familyID, kind, reason string, now time.Time) (bool, error)
	RevokeToken(ctx context.Context, jti, reason string, now time.Time) (bool, error)
	Family(ctx context.Context, id string) (auth.Family, error)
	MatchRefreshToken(ctx context.Context, jti string, hash []byte) (auth.RefreshToken, auth.Family, error)
	SessionsPage(ctx context.Context, q auth.SessionQuery) (auth.SessionPage, error)

	AddEvents(ctx context.Context, events ...auth.Event) error
	AddRejection(ctx context.Context, e auth.Event, window time.Duration) error
	Events(ctx context.Context, after int64, limit int, trace string) ([]auth.Event, error)
	ClientEvents(ctx context.Context, after int64, limit int, clientID, trace string) ([]auth.Event, error)
	PruneEvents(ctx context.Context, keep int) (int64, error)
	PruneEndedFamilies(ctx context.Context, cutoff time.Time) (int64, error)
}
