package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/migrate"
	"github.com/hookline/hookline/server"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	action := "up"
	if len(args) > 0 && (args[0] == "up" || args[0] == "status") {
		action, args = args[0], args[1:]
	}
	fs := newFlagSet(e, "migrate", "[up|status] [flags]", "Apply the database migrations (up, the default) or list them (status).")
	cfg, err := parse(e, fs, config.StorageSettings, args)
	if err != nil {
		return err
	}
	store, err := server.OpenStore(ctx, cfg, newLogger(cfg, e.stderr), hookline.SystemClock{}, false)
	if err != nil {
		return err
	}
	defer store.Close()
	db, ok := store.(migrator)
	if !ok {
		return fmt.Errorf("this database does not support migrations")
	}
	if action == "up" {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(e.stdout, "The database is up to date.")
		}
		for _, m := range applied {
			fmt.Fprintln(e.stdout, "applied", m)
		}
		return nil
	}
	status, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range status {
		switch {
		case m.Missing:
			fmt.Fprintf(e.stdout, "%04d  %-32s applied by a newer Hookline (file missing)\n", m.Version, m.Name)
		case m.Applied:
			fmt.Fprintf(e.stdout, "%04d  %-32s applied %s\n", m.Version, m.Name, m.AppliedAt.Format(time.RFC3339))
		default:
			fmt.Fprintf(e.stdout, "%04d  %-32s pending\n", m.Version, m.Name)
		}
	}
	return nil
}

// migrator is what every database backend offers to the migrate command.
type migrator interface {
	Migrate(ctx context.Context) ([]string, error)
	MigrationStatus(ctx context.Context) ([]migrate.Migration, error)
}
