package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gridbot/bot/classify"
)

// importCmd checks a roster (YAML or xlsx) and installs it under data_dir,
// where serve finds it: gridbot import roster [-config FILE] [-check] FILE.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "roster" {
		return errors.New("usage: gridbot import roster [-config FILE] [-check] FILE (.yaml or .xlsx)")
	}
	fs := flag.NewFlagSet("import roster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (for data_dir); none: the embedded default")
	check := fs.Bool("check", false, "only check the file; install nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: gridbot import roster [-config FILE] [-check] FILE (.yaml or .xlsx)")
	}
	src := fs.Arg(0)
	ext := strings.ToLower(filepath.Ext(src))
	if ext != ".yaml" && ext != ".yml" && ext != ".xlsx" {
		return fmt.Errorf("%s: a roster is a .yaml or .xlsx file", src)
	}
	r, err := readRoster(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	fmt.Fprintf(stdout, "%s is a valid roster of %s: %d districts, %d communities, %d grids, %d people, %d partners, %d chats\n",
		src, r.Subdistrict.Name, len(r.Districts), len(r.Communities), len(r.Grids), len(r.People), len(r.Partners), len(r.Chats))
	if *check {
		return nil
	}
	cfg, err := LoadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if cfg.Roster.File != "" {
		return fmt.Errorf("the config names roster.file %s; edit that file instead, or remove the key to use data_dir", cfg.Roster.File)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(cfg.DataDir, "roster.yaml")
	other := filepath.Join(cfg.DataDir, "roster.xlsx")
	if ext == ".xlsx" {
		dst, other = other, dst
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	_ = os.Remove(other) // one roster at a time
	fmt.Fprintf(stdout, "installed as %s; restart gridbot to use it\n", dst)
	return nil
}

// classifyCmd prints, for each text, one line per top candidate: code,
// name, plan category and score, best first.
func classifyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 3, "candidates per text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: gridbot classify [-n 3] TEXT…")
	}
	c, err := classify.Load()
	if err != nil {
		return err
	}
	for i, text := range fs.Args() {
		if fs.NArg() > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintln(stdout, text)
		}
		lines := c.Explain(text, *n)
		if len(lines) == 0 {
			fmt.Fprintln(stdout, "(no category matches)")
		}
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
	}
	return nil
}

