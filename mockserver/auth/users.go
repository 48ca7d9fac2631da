package auth

import "time"

// User is an account that can log in.
type User struct {
	ID           int64
	Username     string
	PasswordHash []byte
	CreatedAt    time.Time
}
