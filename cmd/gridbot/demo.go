package main

import (
	"context"
	"errors"
	"io"
)

// demoCmd serves the embedded default and plays a whole story (issue 4).
func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("the scripted demo is not built yet")
}
