package main

import (
	"context"
	"fmt"
	"io"
)

// importCmd checks a roster and installs it under data_dir.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return fmt.Errorf("not built yet")
}

// classifyCmd prints the top categories for each text.
func classifyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return fmt.Errorf("not built yet")
}
