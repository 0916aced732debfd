package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/server"
)

// command is one subcommand of hookline.
type command struct {
	name    string
	summary string
	usage   string // the arguments after the command name
	run     func(ctx context.Context, e *env, args []string) error
}

// env is what a command runs with: its output streams and environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{"serve", "Run the Hookline server (API, delivery, dashboard)", "[flags]", runServe},
		{"migrate", "Apply database migrations, or show their status", "[up|status] [flags]", runMigrate},
		{"token", "Create, list and revoke API tokens", "create|list|revoke [flags]", runToken},
		{"listen", "Receive webhooks locally: verify and print each delivery", "[flags]", runListen},
		{"bench", "Benchmark delivery and the API end to end (see docs/performance.md)", "[flags]", runBench},
		{"version", "Print the version", "", runVersion},
	}
}

// errUsage marks errors whose usage text was already printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr, getenv)
		}
		printHelp(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			default:
				fmt.Fprintf(stderr, "hookline %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "hookline: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Hookline sends webhooks: signed, retried, logged. Its API is Svix-compatible.")
	fmt.Fprintln(w, "\nUsage: hookline <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `hookline <command> --help` for a command's flags. Every flag also has a")
	fmt.Fprintln(w, "HOOKLINE_* environment variable; see docs/configuration.md.")
}

// newFlagSet returns a flag set whose --help prints the command's usage.
func newFlagSet(e *env, name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("hookline "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "%s\n\nUsage: hookline %s %s\n\nFlags:\n", summary, name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs and returns the resolved configuration.
func parse(e *env, fs *flag.FlagSet, settings []string, args []string) (*config.Config, error) {
	resolve := config.Register(fs, settings, e.getenv)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return resolve()
}

// parseFlags parses args into fs. --help prints the command's usage and returns flag.ErrHelp; a
// wrong flag prints the error and one line on how to see the flags, and returns errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	default:
		fmt.Fprintf(fs.Output(), "Run `%s --help` for its flags.\n", fs.Name())
		return errUsage
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fmt.Fprint(e.stdout, server.ReadBuild())
	return nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[flags]", "Run the Hookline server. With no flags it uses SQLite in ./hookline-data and listens on 127.0.0.1:8080.")
	cfg, err := parse(e, fs, config.ServeSettings, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	logger := newLogger(cfg, e.stderr)
	setGCPercent()
	// Listen first: a port in use must stop a first start before it creates anything, or the
	// first operator token would be made and never shown.
	ln, err := server.Listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("%w\n\nNothing was created or changed. Stop what uses the port, or choose another with --listen\n"+
			"(HOOKLINE_LISTEN). If you have no operator token for an existing data directory, make one with\n"+
			"`hookline token create` (with the same --data-dir or --database-url)", err)
	}
	srv, err := server.Open(ctx, *cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	srv.StartOn(ln)
	printBanner(e.stdout, srv)
	if srv.FirstToken != "" {
		printFirstToken(e.stdout, srv.FirstToken, srv.BaseURL())
	}
	err = srv.Wait(ctx)
	logger.Info("shutting down")
	if cerr := srv.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// printBanner says where the server can be reached: the dashboard, the API and its OpenAPI
// document, and the health and metrics endpoints.
func printBanner(w io.Writer, srv *server.Server) {
	base := srv.BaseURL()
	role := ""
	if srv.Role() != server.RoleAll {
		role = " as a " + srv.Role() + " process"
	}
	fmt.Fprintf(w, "\nHookline %s is running%s.\n\n", server.Version, role)
	if srv.Role() != server.RoleWorker {
		fmt.Fprintf(w, "    Dashboard  %s/dashboard/\n", base)
		fmt.Fprintf(w, "    API        %s/api/v1\n", base)
		fmt.Fprintf(w, "    API docs   %s/api/v1/openapi.json (OpenAPI 3.1; the guide is docs/api.md)\n", base)
	}
	fmt.Fprintf(w, "    Health     %s/healthz, %s/readyz\n", base, base)
	fmt.Fprintf(w, "    Metrics    %s/metrics\n\n", base)
}

func printFirstToken(w io.Writer, token, url string) {
	fmt.Fprintf(w, `
Hookline created an operator token on its first start. It is shown only this once:

    %s

Use it as a bearer token, for example:

    curl -H "Authorization: Bearer %s" %s/api/v1/app

Keep it somewhere safe. `+"`hookline token create`"+` makes more; `+"`hookline token revoke`"+` retires one.

`, token, token, url)
}

// serveGCPercent is the garbage collector's target for the server unless GOGC says otherwise.
// The server's live heap is small (tens of MiB), and collecting half as often cut its CPU per
// delivery by a tenth in the 100ep benchmark, for a few tens of MiB more memory.
const serveGCPercent = 200

// setGCPercent applies serveGCPercent when the GOGC environment variable is not set.
func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
