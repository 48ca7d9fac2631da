package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// SessionsPage returns a page of sessions. Pages follow (created_at, id),
// so a session created while paging never shifts a page already read.
func (db *DB) SessionsPage(ctx context.Context, q auth.SessionQuery) (auth.SessionPage, error) {
	afterAt, afterID, err := parseCursor(q.After)
	if err != nil {
		return auth.SessionPage{}, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+familyColumns+`
		FROM families f JOIN users u ON u.id = f.user_id
		WHERE (?1 = '' OR u.username = ?1) AND (?2 = '' OR f.id = ?2)
		  AND (?3 = '' OR f.created_at < ?4 OR (f.created_at = ?4 AND f.id > ?3))
		ORDER BY f.created_at DESC, f.id LIMIT ?5`,
		q.Username, q.FamilyID, afterID, afterAt, q.Limit+1)
	if err != nil {
		return auth.SessionPage{}, err
	}
	var page auth.SessionPage
	for rows.Next() {
		f, err := scanFamily(rows)
		if err != nil {
			rows.Close()
			return auth.SessionPage{}, err
		}
		page.Sessions = append(page.Sessions, auth.PagedSession{Session: auth.Session{Family: f}})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return auth.SessionPage{}, err
	}
	if len(page.Sessions) > q.Limit {
		page.Sessions = page.Sessions[:q.Limit]
		last := page.Sessions[q.Limit-1].Family
		page.Next = fmt.Sprintf("%d_%s", last.CreatedAt.UnixNano(), last.ID)
	}
	for i := range page.Sessions {
		s := &page.Sessions[i]
		if s.Tokens, err = db.newestTokens(ctx, s.Family.ID, q.Tokens); err != nil {
			return auth.SessionPage{}, err
		}
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM refresh_tokens WHERE family_id = ?`,
			s.Family.ID).Scan(&s.TokenCount); err != nil {
			return auth.SessionPage{}, err
		}
	}
	return page, nil
}

func (db *DB) newestTokens(ctx context.Context, familyID string, limit int) ([]auth.RefreshToken, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+`
		FROM refresh_tokens WHERE family_id = ? ORDER BY issued_at DESC, rowid DESC LIMIT ?`, familyID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tokens []auth.RefreshToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, t)
	}
	return tokens, rows.Err()
}

// parseCursor reads "<created_at unix nanos>_<family id>".
func parseCursor(c string) (at int64, id string, err error) {
	if c == "" {
		return 0, "", nil
	}
	n, id, ok := strings.Cut(c, "_")
	at, perr := strconv.ParseInt(n, 10, 64)
	if !ok || perr != nil || id == "" {
		return 0, "", auth.ErrBadCursor
	}
	return at, id, nil
}
