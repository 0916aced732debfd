// Command profserve is `hookline serve` with profiling, for `hookline bench --binary`: the
// server has no pprof endpoint, so this wrapper runs the same server package with the Go
// profilers on. It accepts `serve` and the serve flags, and reads:
//
//	HOOKLINE_BENCH_CPUPROFILE  file to write a CPU profile of the whole run to
//	HOOKLINE_BENCH_PPROF       address to serve net/http/pprof on, such as 127.0.0.1:6060
//	                           (block and mutex profiling are then on too)
//
// Build it with `go build -o /tmp/profserve ./bench/profserve` and pass
// `--binary /tmp/profserve` to hookline bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		return errors.New("usage: profserve serve [serve flags]")
	}
	fs := flag.NewFlagSet("profserve serve", flag.ContinueOnError)
	resolve := config.Register(fs, config.ServeSettings, os.Getenv)
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if path := os.Getenv("HOOKLINE_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if addr := os.Getenv("HOOKLINE_BENCH_PPROF"); addr != "" {
		runtime.SetBlockProfileRate(10000) // one sample per 10µs blocked
		runtime.SetMutexProfileFraction(10)
		go http.ListenAndServe(addr, nil) // http.DefaultServeMux has the pprof handlers
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Open(ctx, *cfg, logger)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		return err
	}
	err = srv.Wait(ctx)
	return errors.Join(err, srv.Close())
}
