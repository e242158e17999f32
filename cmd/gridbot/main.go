// Command gridbot runs the WeCom bot of the 城市管理进社区 plan.
//
//	gridbot                      serve on the embedded default (SQLite, simulated WeCom)
//	gridbot serve -config FILE   serve with a config file (MySQL + Redis + real WeCom)
//	gridbot migrate [-config FILE]
//	gridbot demo
//	gridbot import roster FILE
//	gridbot classify TEXT…
//	gridbot version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai on machines without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gridbot:", err)
		os.Exit(1)
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run is the whole program; tests call it with their own args, env and
// writers, on port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args, getenv, stdout, stderr)
	case "classify":
		return classifyCmd(ctx, args, getenv, stdout, stderr)
	case "assess":
		return assessCmd(ctx, args, getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, args, getenv, stdout, stderr)
	case "requeue":
		return requeueCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "gridbot", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  gridbot                        serve on the embedded default: SQLite under ./data,
                                 the simulated WeCom, http://127.0.0.1:8080
  gridbot serve [-config FILE]   serve (GRIDBOT_* variables override the file)
  gridbot migrate [-config FILE] apply database migrations and exit
  gridbot demo                   serve the embedded default and play a whole case story in the simulator
  gridbot import roster FILE     check a roster (YAML or xlsx) and install it under data_dir
  gridbot classify TEXT…         show the top categories the bot would propose for each text
  gridbot requeue [-config FILE] try the dead letters (outbox and inbox) again
  gridbot version                print the version
`
