package main

import "github.com/spf13/cobra"

func newDecodeCmd(std streams) *cobra.Command { return notYet("decode", "Decode a JWT") }
