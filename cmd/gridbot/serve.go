package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"gridbot/bot"
	"gridbot/bot/classify"
	"gridbot/bot/ledger"
	"gridbot/bot/roster"
	"gridbot/bot/roster/rosterxlsx"
	"gridbot/bot/wecom"
	"gridbot/bot/wecom/wecomfake"
	"gridbot/handlers"
	"gridbot/store"
	"gridbot/templates"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// loadFlags parses -config and returns the validated config.
func loadFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (YAML); none: the embedded default")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	cfg, err := LoadConfig(*path, getenv)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured store: MySQL with a DSN, else SQLite.
// now is its clock (nil: the real one).
func openStore(ctx context.Context, cfg Config, migrate bool, now func() time.Time) (*store.DB, error) {
	opts := store.Options{Driver: store.DriverSQLite, SQLitePath: cfg.Store.SQLitePath, Migrate: migrate, Now: now}
	if cfg.Store.MySQLDSN != "" {
		opts = store.Options{Driver: store.DriverMySQL, DSN: cfg.Store.MySQLDSN.Value(), Migrate: migrate, Now: now}
	}
	return store.Open(ctx, opts)
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadFlags("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, true, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "gridbot: %s schema is up to date\n", db.Driver())
	return nil
}

// serveCmd runs the service until ctx ends, then shuts down in order:
// HTTP, then workers, then stores.
func serveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadFlags("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, ln, stderr, deps{})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.close()
	// What start-up allocated (migrations, the roster, templates, the
	// classifier's dictionary) is garbage now: give it back before idling.
	debug.FreeOSMemory()
	a.describe(stdout)
	return a.serve(ctx)
}

// deps are what tests may inject; zero values are the real thing.
type deps struct {
	Clock bot.Clock
}

// app is one running gridbot: stores, WeCom, workers and HTTP, wired.
type app struct {
	cfg        Config
	log        *slog.Logger
	ln         net.Listener
	base       string
	db         *store.DB
	closers    []func()
	sessions   string
	apiBase    string
	rosterFrom string
	roster     *roster.Roster
	sim        *handlers.Sim
	processor  *bot.Processor
	dispatcher *bot.Dispatcher
	sweeper    *bot.Sweeper
	reporter   *bot.Reporter
	http       *http.Server
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// newApp wires everything on ln. On error what was opened is closed.
func newApp(ctx context.Context, cfg Config, ln net.Listener, stderr io.Writer, d deps) (_ *app, err error) {
	a := &app{cfg: cfg, log: newLogger(cfg, stderr), ln: ln, base: "http://" + ln.Addr().String()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	clock := d.Clock
	if clock == nil {
		clock = bot.ClockFunc(time.Now)
	}
	tpl, err := templates.Load()
	if err != nil {
		return nil, err
	}
	classifier, err := classify.Load()
	if err != nil {
		return nil, err
	}
	if a.roster, a.rosterFrom, err = loadRoster(cfg); err != nil {
		return nil, err
	}

	if a.db, err = openStore(ctx, cfg, cfg.Store.AutoMigrate, clock.Now); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	a.closers = append(a.closers, func() { a.db.Close() })
	// Callbacks arriving together commit together: one transaction, one
	// fsync, every Put answered only once its row is durable. One
	// committer on MySQL too: under a burst, fewer and larger commits cost
	// the server less CPU than several overlapping ones (measured in
	// cmd/gridbench/RESULTS.md: 1 committer 10.7k/s, 2 9.7k/s, 4 9.0k/s,
	// 8 7.8k/s), and at 1,000/s a commit is under 2 ms anyway. During a
	// burst a committer lingers 0.5 ms for a fuller batch (SQLite: 11.7–12.7k
	// → 14.0–14.7k/s; MariaDB unchanged within noise); otherwise never.
	inbox := store.NewGroupInbox(a.db, store.GroupOptions{Linger: 500 * time.Microsecond})
	a.closers = append(a.closers, func() { inbox.Close() }) // closers run in reverse: after HTTP and the workers, before the DB

	var sessions, tokens bot.KV
	if sessions, err = store.NewSQLKV(a.db, store.TableSessions); err != nil {
		return nil, err
	}
	if tokens, err = store.NewSQLKV(a.db, store.TableTokenCache); err != nil {
		return nil, err
	}
	a.sessions = "SQL"
	if cfg.Redis.Addr != "" {
		rdb := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:      strings.Split(cfg.Redis.Addr, ","),
			Password:   cfg.Redis.Password.Value(),
			DB:         cfg.Redis.DB,
			MasterName: cfg.Redis.MasterName,
		})
		a.closers = append(a.closers, func() { rdb.Close() })
		if err := rdb.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("redis %s does not answer: %w", cfg.Redis.Addr, err)
		}
		// When Redis fails, sessions and the token cache go on in SQL.
		// The window covers the longest TTL stored: a session with a patrol
		// under way lives 24 h, an access token 2 h.
		fallback := store.FallbackOptions{Now: clock.Now, Window: 25 * time.Hour, OnFallback: func(op string, err error) {
			a.log.Warn("redis failed: sessions and tokens fall back to SQL for a while", "op", op, "err", err)
		}}
		sessions = store.NewFallbackKV(store.NewRedisKV(rdb, cfg.Redis.KeyPrefix+"sess:"), sessions, fallback)
		tokens = store.NewFallbackKV(store.NewRedisKV(rdb, cfg.Redis.KeyPrefix+"token:"), tokens, fallback)
		a.sessions = "Redis " + cfg.Redis.Addr
	}

	crypto, err := wecom.NewCrypto(cfg.WeCom.Token.Value(), cfg.WeCom.AESKey.Value(), cfg.WeCom.CorpID)
	if err != nil {
		return nil, err
	}
	metrics := handlers.NewMetrics(a.db.Inbox(), a.db.Outbox())
	robots := map[string]string{}
	for name, key := range cfg.WeCom.Robots {
		robots[name] = key.Value()
	}
	if cfg.WeCom.Simulate {
		// The simulated WeCom has a robot in every chat of the roster.
		for _, ch := range a.roster.Chats {
			if _, ok := robots[ch.Robot]; ch.Robot != "" && !ok {
				robots[ch.Robot] = "demo-robot-" + ch.ID
			}
		}
	}
	a.apiBase = cfg.WeCom.APIBase
	if cfg.WeCom.Simulate {
		fake := wecomfake.New(wecomfake.Options{
			CorpID: cfg.WeCom.CorpID, CorpSecret: cfg.WeCom.Secret.Value(), AgentID: cfg.WeCom.AgentID,
			Robots: robots, Now: clock.Now,
		})
		a.apiBase = a.base + "/wecomfake"
		a.sim = &handlers.Sim{
			Fake: fake, Crypto: crypto, AgentID: strconv.Itoa(cfg.WeCom.AgentID),
			CallbackURL: a.base + "/wecom/callback", HTTP: &http.Client{Timeout: 10 * time.Second}, Clock: clock,
			Roster: a.roster,
		}
	}
	client := wecom.NewClient(wecom.ClientOptions{
		BaseURL: a.apiBase, CorpID: cfg.WeCom.CorpID, AgentID: cfg.WeCom.AgentID, Secret: cfg.WeCom.Secret.Value(),
		HTTP: &http.Client{Timeout: cfg.WeCom.HTTPTimeout}, Tokens: tokens, Robots: robots,
		MediaDir: cfg.Media.Dir, MaxMedia: cfg.Media.MaxBytes, OnCall: metrics.WeComCall,
	})

	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	var appRate *rate.Limiter
	if cfg.WeCom.AppRate > 0 {
		appRate = rate.NewLimiter(rate.Limit(cfg.WeCom.AppRate), int(cfg.WeCom.AppRate)+1)
	}
	policy := bot.DefaultPolicy()
	policy.SmallHour, policy.BigFor, policy.RemindShare = cfg.Cases.SmallHour, time.Duration(cfg.Cases.BigDays)*24*time.Hour, cfg.Cases.RemindShare
	service := &bot.Service{
		T: tpl, Roster: a.roster, Classifier: classifier, Sessions: sessions, Policy: policy,
		DraftTTL: cfg.Cases.DraftWindow, DupMeters: cfg.Cases.DupMeters,
	}
	cases := a.db.Cases()
	a.dispatcher = &bot.Dispatcher{
		Outbox: a.db.Outbox(), Sender: client, Limiter: a.db.RateLimiter(), AppRate: appRate,
		Clock: clock, Owner: owner, Lease: cfg.Workers.OutboxLease, Poll: cfg.Workers.Poll,
		MaxAttempts: cfg.Workers.OutboxAttempts, BaseBackoff: cfg.Workers.OutboxBackoff,
		MaxBackoff: cfg.Workers.OutboxMaxBackoff, Observer: metrics,
		OnSent: func(ctx context.Context, item bot.OutboxItem, result []byte) error {
			if item.Kind != bot.OutMedia {
				return nil
			}
			var r bot.MediaResult
			if err := json.Unmarshal(result, &r); err != nil {
				return err
			}
			return cases.MediaStored(ctx, r)
		},
	}
	a.processor = &bot.Processor{
		Inbox: a.db.Inbox(), Handler: service, Parse: wecom.Parse,
		Owner: owner, Lease: cfg.Workers.InboxLease, Poll: cfg.Workers.Poll,
		Observer: metrics, OnCommit: a.dispatcher.Notify,
		// During a burst of callbacks, acknowledgements first: the
		// processor steps aside while callbacks arrive at 2,000/s or more.
		Yield: inbox.Busy,
	}
	if a.db.Driver() == store.DriverMySQL {
		// Several instances share MySQL: one member's rows one at a time
		// across them. (SQLite means one instance, whose processor already
		// takes one member's rows one after another.)
		a.processor.Users = a.db.Leases()
		// A row's commits wait on the server's log flush: process eight
		// members' rows at once (one member's always in order).
		a.processor.Parallel = 8
	}
	a.sweeper = &bot.Sweeper{Cases: cases, Leases: a.db.Leases(), Service: service, Clock: clock, Owner: owner,
		Every: cfg.Cases.SweepEvery, OnCommit: a.dispatcher.Notify}
	if a.reporter, err = newReporter(cfg, a.db, a.roster, tpl, clock, owner, a.log, a.dispatcher.Notify); err != nil {
		return nil, err
	}

	srv := &handlers.Server{
		Receiver: &wecom.Receiver{Crypto: crypto, AgentID: strconv.Itoa(cfg.WeCom.AgentID), Window: cfg.WeCom.TimestampWindow, Now: clock.Now},
		Crypto:   crypto,
		Inbox:    inbox,
		Accepted: a.processor.Notify,
		Ping:     a.db.Ping,
		Metrics:  metrics,
		Log:      a.log,
		Clock:    clock,
		Sim:      a.sim,
		Reports:  &handlers.Reports{Exporter: &ledger.Exporter{Reporter: a.reporter}, Assessor: a.reporter, Clock: clock, Zone: policy.Zone},
		API: &handlers.API{Cases: cases, Token: cfg.API.Token.Value(), Open: cfg.WeCom.Simulate && isLoopback(cfg.Listen),
			MediaDir: cfg.Media.Dir, Zone: policy.Zone},
	}
	a.http = &http.Server{
		Handler:           srv.Routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	return a, nil
}

// isLoopback reports whether a listen address only takes local connections.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadRoster reads roster.file, else data_dir/roster.yaml or roster.xlsx
// (what `gridbot import roster` writes), else the built-in demo.
func loadRoster(cfg Config) (*roster.Roster, string, error) {
	path := cfg.Roster.File
	if path == "" {
		for _, name := range []string{"roster.yaml", "roster.xlsx"} {
			p := filepath.Join(cfg.DataDir, name)
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return roster.Demo(), "the built-in demo roster of 董家街道", nil
	}
	r, err := readRoster(path)
	if err != nil {
		return nil, "", err
	}
	return r, path, nil
}

// readRoster parses a YAML or xlsx roster file.
func readRoster(path string) (*roster.Roster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return rosterxlsx.Parse(f)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return roster.Parse(b)
}

// describe prints what started and where.
func (a *app) describe(w io.Writer) {
	mode := "WeCom API " + a.apiBase
	if a.sim != nil {
		mode = "simulated WeCom (demo credentials)"
	}
	fmt.Fprintf(w, "gridbot %s listening on %s\n", version, a.base)
	fmt.Fprintf(w, "  store:     %s\n", describeStore(a.cfg, a.db))
	fmt.Fprintf(w, "  sessions:  %s\n", a.sessions)
	fmt.Fprintf(w, "  roster:    %s (%d districts, %d grids, %d people)\n", a.rosterFrom, len(a.roster.Districts), len(a.roster.Grids), len(a.roster.People))
	fmt.Fprintf(w, "  wecom:     %s\n", mode)
	fmt.Fprintf(w, "  callback:  %s/wecom/callback\n", a.base)
	fmt.Fprintf(w, "  api:       %s/api/cases\n", a.base)
	if a.sim != nil {
		fmt.Fprintf(w, "  simulator: %s/sim/\n", a.base)
	}
	fmt.Fprintf(w, "  health:    %s/healthz   metrics: %s/metrics\n", a.base, a.base)
}

// serve runs HTTP and the workers until ctx ends; then HTTP stops first,
// then the workers; the stores close when the caller closes the app.
func (a *app) serve(ctx context.Context) error {
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); a.processor.Run(workCtx) }()
	go func() { defer wg.Done(); a.dispatcher.Run(workCtx) }()
	go func() { defer wg.Done(); a.sweeper.Run(workCtx) }()
	if !a.cfg.Reports.Disabled {
		wg.Add(1)
		go func() { defer wg.Done(); a.reporter.Run(workCtx) }()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.http.Serve(a.ln) }()
	if a.cfg.DebugListen != "" {
		if err := serveDebug(workCtx, a.cfg.DebugListen, a.log); err != nil {
			a.log.Warn("debug listener", "err", err)
		}
	}
	a.log.Info("started", "listen", a.base, "driver", a.db.Driver())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = err
		}
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.http.Shutdown(shutCtx); err != nil {
		a.log.Warn("http shutdown", "err", err)
	}
	stopWork()
	wg.Wait()
	a.log.Info("stopped")
	return runErr
}

func describeStore(cfg Config, db *store.DB) string {
	if db.Driver() == store.DriverMySQL {
		return "MySQL"
	}
	return "SQLite " + cfg.Store.SQLitePath
}
