package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"gridbot/bot"
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

func openStore(ctx context.Context, cfg Config, migrate bool) (*store.DB, error) {
	opts := store.Options{Driver: "sqlite", SQLitePath: cfg.Store.SQLitePath, Migrate: migrate}
	if cfg.Store.MySQLDSN != "" {
		opts = store.Options{Driver: "mysql", DSN: cfg.Store.MySQLDSN.Value(), Migrate: migrate}
	}
	return store.Open(ctx, opts)
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadFlags("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, true)
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
	log := newLogger(cfg, stderr)
	tpl, err := templates.Load()
	if err != nil {
		return err
	}

	db, err := openStore(ctx, cfg, cfg.Store.AutoMigrate)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer db.Close()

	var sessions, tokens bot.KV
	if sessions, err = store.NewSQLKV(db, "sessions"); err != nil {
		return err
	}
	if tokens, err = store.NewSQLKV(db, "token_cache"); err != nil {
		return err
	}
	sessionWhere := "SQL"
	if cfg.Redis.Addr != "" {
		rdb := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:      strings.Split(cfg.Redis.Addr, ","),
			Password:   cfg.Redis.Password.Value(),
			DB:         cfg.Redis.DB,
			MasterName: cfg.Redis.MasterName,
		})
		defer rdb.Close()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis %s does not answer: %w", cfg.Redis.Addr, err)
		}
		sessions, tokens = store.NewRedisKV(rdb, cfg.Redis.KeyPrefix+"sess:"), store.NewRedisKV(rdb, cfg.Redis.KeyPrefix+"token:")
		sessionWhere = "Redis " + cfg.Redis.Addr
	}
	_ = sessions // the conversation's sessions arrive with the case loop

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	crypto, err := wecom.NewCrypto(cfg.WeCom.Token.Value(), cfg.WeCom.AESKey.Value(), cfg.WeCom.CorpID)
	if err != nil {
		ln.Close()
		return err
	}
	metrics := handlers.NewMetrics(db.Inbox(), db.Outbox())

	robots := map[string]string{}
	for name, key := range cfg.WeCom.Robots {
		robots[name] = key.Value()
	}
	apiBase := cfg.WeCom.APIBase
	var sim *handlers.Sim
	if cfg.WeCom.Simulate {
		fake := wecomfake.New(wecomfake.Options{
			CorpID: cfg.WeCom.CorpID, CorpSecret: cfg.WeCom.Secret.Value(), AgentID: cfg.WeCom.AgentID,
			Robots: robots,
		})
		apiBase = base + "/wecomfake"
		sim = &handlers.Sim{
			Fake:        fake,
			Crypto:      crypto,
			AgentID:     strconv.Itoa(cfg.WeCom.AgentID),
			CallbackURL: base + "/wecom/callback",
			HTTP:        &http.Client{Timeout: 10 * time.Second},
		}
	}
	client := wecom.NewClient(wecom.ClientOptions{
		BaseURL:  apiBase,
		CorpID:   cfg.WeCom.CorpID,
		AgentID:  cfg.WeCom.AgentID,
		Secret:   cfg.WeCom.Secret.Value(),
		HTTP:     &http.Client{Timeout: cfg.WeCom.HTTPTimeout},
		Tokens:   tokens,
		Robots:   robots,
		MediaDir: cfg.Media.Dir,
		MaxMedia: cfg.Media.MaxBytes,
		OnCall:   metrics.WeComCall,
	})

	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%d", host, os.Getpid(), time.Now().UnixNano()%1e6)
	clock := bot.ClockFunc(time.Now)
	var appRate *rate.Limiter
	if cfg.WeCom.AppRate > 0 {
		appRate = rate.NewLimiter(rate.Limit(cfg.WeCom.AppRate), int(cfg.WeCom.AppRate)+1)
	}
	dispatcher := &bot.Dispatcher{
		Outbox: db.Outbox(), Sender: client, Limiter: db.RateLimiter(), AppRate: appRate,
		Clock: clock, Owner: owner, Lease: cfg.Workers.OutboxLease, Poll: cfg.Workers.Poll,
		MaxAttempts: cfg.Workers.OutboxAttempts, BaseBackoff: cfg.Workers.OutboxBackoff,
		MaxBackoff: cfg.Workers.OutboxMaxBackoff, Observer: metrics,
	}
	processor := &bot.Processor{
		Inbox: db.Inbox(), Handler: &bot.Bot{T: tpl}, Parse: wecom.Parse,
		Owner: owner, Lease: cfg.Workers.InboxLease, Poll: cfg.Workers.Poll,
		Observer: metrics, OnCommit: dispatcher.Notify,
	}
	srv := &handlers.Server{
		Receiver: &wecom.Receiver{Crypto: crypto, AgentID: strconv.Itoa(cfg.WeCom.AgentID), Window: cfg.WeCom.TimestampWindow},
		Crypto:   crypto,
		Inbox:    db.Inbox(),
		Accepted: processor.Notify,
		Ping:     db.Ping,
		Metrics:  metrics,
		Log:      log,
		Clock:    clock,
		Sim:      sim,
	}
	httpSrv := &http.Server{
		Handler:           srv.Routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); processor.Run(workCtx) }()
	go func() { defer wg.Done(); dispatcher.Run(workCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	mode := "WeCom API " + apiBase
	if sim != nil {
		mode = "simulated WeCom (demo credentials)"
	}
	fmt.Fprintf(stdout, "gridbot %s listening on %s\n", version, base)
	fmt.Fprintf(stdout, "  store:     %s\n", describeStore(cfg, db))
	fmt.Fprintf(stdout, "  sessions:  %s\n", sessionWhere)
	fmt.Fprintf(stdout, "  wecom:     %s\n", mode)
	fmt.Fprintf(stdout, "  callback:  %s/wecom/callback\n", base)
	if sim != nil {
		fmt.Fprintf(stdout, "  simulator: %s/sim/\n", base)
	}
	fmt.Fprintf(stdout, "  health:    %s/healthz   metrics: %s/metrics\n", base, base)
	log.Info("started", "listen", base, "driver", db.Driver())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = err
		}
	}
	// Shutdown order: HTTP first (no new callbacks), then workers, then stores (deferred).
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWork()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

func describeStore(cfg Config, db *store.DB) string {
	if db.Driver() == "mysql" {
		return "MySQL"
	}
	return "SQLite " + cfg.Store.SQLitePath
}
