package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"

	"gridbot/handlers"
)

// demoCmd serves the embedded default exactly like `gridbot` and plays the
// scripted story once in the simulator — a report in grid dc01 that the
// station chief hands to the guidance officer, who handles it, and the
// inspector verifies and closes — printing each step's caption. Then it
// keeps serving (the page at /sim/ shows every member's chat) until ctx
// ends, or returns at once with -exit.
func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (YAML); none: the embedded default")
	pause := fs.Duration("pause", handlers.DefaultDemoPause, "how long each step is shown before it is played")
	exit := fs.Bool("exit", false, "stop serving once the story has played")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var cfgArgs []string
	if *configPath != "" {
		cfgArgs = []string{"-config", *configPath}
	}
	cfg, err := loadFlags("demo", cfgArgs, getenv, stderr)
	if err != nil {
		return err
	}
	if !cfg.WeCom.Simulate {
		return errors.New("demo plays in the simulated WeCom: use the embedded default or wecom.simulate: true")
	}
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
	a.describe(stdout)

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- a.serve(serveCtx) }()

	watch := a.base + "/sim/"
	fmt.Fprintf(stdout, "\ndemo: playing a case story; watch it live at %s\n", watch)
	final, err := a.sim.PlayDemo(ctx, handlers.DemoOptions{Pause: *pause, OnStep: func(p handlers.DemoProgress) {
		if p.State == handlers.DemoRunning {
			fmt.Fprintf(stdout, "  [%d/%d] %s\n", p.Step, p.Total, p.Caption)
		}
	}})
	switch {
	case ctx.Err() != nil:
		return <-served
	case err != nil:
		fmt.Fprintf(stdout, "demo: stopped: %v\n", err)
	default:
		fmt.Fprintf(stdout, "demo: case %s closed. %s\n", final.CaseNo, final.Caption)
	}
	if *exit {
		stop()
		if serr := <-served; serr != nil {
			return serr
		}
		return err
	}
	fmt.Fprintf(stdout, "demo: open %s to see every member's chat (Ctrl-C to stop)\n", watch)
	return <-served
}
