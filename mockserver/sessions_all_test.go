package mockserver

import (
	"context"

	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
)

// allSessions returns the first 100 sessions, newest first, each with up
// to 10 000 of its tokens: all of them, for the tests' small databases.
func allSessions(ctx context.Context, db *sqlite.DB) ([]auth.PagedSession, error) {
	page, err := db.SessionsPage(ctx, auth.SessionQuery{Limit: 100, Tokens: 10000})
	return page.Sessions, err
}
