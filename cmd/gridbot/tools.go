package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridbot/bot"
	"gridbot/bot/classify"
	"gridbot/bot/wecom"
	"gridbot/store"
	"gridbot/templates"
)

// importCmd checks a roster (YAML or xlsx) and installs it under data_dir,
// where serve finds it: gridbot import roster [-config FILE] [-check] FILE.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "checkin" {
		return importCheckinCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "roster" {
		return errors.New("usage: gridbot import roster [-config FILE] [-check] FILE (.yaml or .xlsx)\n       gridbot import checkin [-config FILE] -from 2026-11-01 -to 2026-11-30")
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

// importCheckinCmd reads inspectors' 外出打卡 records from WeCom's check-in
// API and records the days they patrolled their grid.
func importCheckinCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import checkin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file")
	fromS := fs.String("from", "", "first day, 2026-11-01")
	toS := fs.String("to", "", "last day, 2026-11-30 (default: the first day)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	zone := bot.Shanghai()
	from, err := time.ParseInLocation("2006-01-02", *fromS, zone)
	if err != nil {
		return errors.New("-from must be a date like 2026-11-01")
	}
	to := from
	if *toS != "" {
		if to, err = time.ParseInLocation("2006-01-02", *toS, zone); err != nil || to.Before(from) {
			return errors.New("-to must be a date like 2026-11-30, not before -from")
		}
	}
	cfg, err := LoadConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.WeCom.Simulate {
		return errors.New("import checkin reads WeCom's check-in API: set wecom.api_base (the simulated WeCom has no 打卡 records)")
	}
	t, err := openTools(ctx, cfg)
	if err != nil {
		return err
	}
	defer t.close()
	n, err := t.service.ImportCheckins(ctx, t.db.Cases(), t.client, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d patrol(s) from 外出打卡 records of %s to %s\n", n, from.Format("2006-01-02"), to.Format("2006-01-02"))
	return nil
}

// tools are the store, WeCom client and service a one-shot command needs.
type tools struct {
	db      *store.DB
	client  *wecom.Client
	service *bot.Service
}

func (t *tools) close() { t.db.Close() }

// openTools opens what a command needs, as serve would, without HTTP.
func openTools(ctx context.Context, cfg Config) (*tools, error) {
	r, _, err := loadRoster(cfg)
	if err != nil {
		return nil, err
	}
	tpl, err := templates.Load()
	if err != nil {
		return nil, err
	}
	classifier, err := classify.Load()
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg, cfg.Store.AutoMigrate, nil)
	if err != nil {
		return nil, err
	}
	tokens, err := store.NewSQLKV(db, store.TableTokenCache)
	if err != nil {
		db.Close()
		return nil, err
	}
	client := wecom.NewClient(wecom.ClientOptions{BaseURL: cfg.WeCom.APIBase, CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID,
		Secret: cfg.WeCom.Secret.Value(), HTTP: &http.Client{Timeout: cfg.WeCom.HTTPTimeout}, Tokens: tokens})
	sessions, err := store.NewSQLKV(db, store.TableSessions)
	if err != nil {
		db.Close()
		return nil, err
	}
	service := &bot.Service{T: tpl, Roster: r, Classifier: classifier, Sessions: sessions, Policy: bot.DefaultPolicy()}
	return &tools{db: db, client: client, service: service}, nil
}

// requeueCmd gives dead letters another chance, once their cause is fixed
// (a wrong secret, a member added to the app's visible range …).
func requeueCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadFlags("requeue", args, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, cfg.Store.AutoMigrate, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	out, err := db.Outbox().Requeue(ctx)
	if err != nil {
		return err
	}
	in, err := db.Inbox().Requeue(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "requeued %d outbox item(s) and %d inbox row(s); a running gridbot takes them now\n", out, in)
	return nil
}
