package auth

// Session is a family with its tokens, newest first.
type Session struct {
	Family Family
	Tokens []RefreshToken
}

// SessionQuery asks for one page of sessions, newest first.
type SessionQuery struct {
	Limit    int    // sessions per page
	After    string // the Next of the previous page; "" for the first
	Username string // only this user's sessions, when set
	FamilyID string // only this family, when set
	Tokens   int    // newest tokens returned per session
}

// PagedSession is a session with at most SessionQuery.Tokens of its
// tokens, newest first, and how many it has in all.
type PagedSession struct {
	Session
	TokenCount int
}

// SessionPage is one page; Next is "" on the last.
type SessionPage struct {
	Sessions []PagedSession
	Next     string
}
