package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholders until the client commands are written.

func notYet(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, RunE: func(*cobra.Command, []string) error {
		return errors.New(use + " is not built yet")
	}}
}

func newLoginCmd(std streams) *cobra.Command  { return notYet("login", "Log in and keep the session") }
func newStatusCmd(std streams) *cobra.Command { return notYet("status", "Show the current session") }
func newTokenCmd(std streams) *cobra.Command  { return notYet("token", "Print a valid access token") }
func newLogoutCmd(std streams) *cobra.Command { return notYet("logout", "Log out") }
func newRequestCmd(std streams) *cobra.Command {
	return notYet("request", "Send a request with the session")
}
