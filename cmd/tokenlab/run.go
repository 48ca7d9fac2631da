package main

import "github.com/spf13/cobra"

func newRunCmd(std streams) *cobra.Command { return notYet("run", "Run scenarios") }
func newScenariosCmd(std streams) *cobra.Command {
	return notYet("scenarios", "List the built-in scenarios")
}
