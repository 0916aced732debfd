package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/server"
	"github.com/hookline/hookline/service"
)

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprintln(e.stderr, "Usage: hookline token create|list|revoke [flags]\n\n"+
			"  create  make an operator token, or an application token with --app\n"+
			"  list    list tokens (never their text)\n"+
			"  revoke  revoke a token by id: hookline token revoke tok_...")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return errUsage
	}
	action, args := args[0], args[1:]
	fs := newFlagSet(e, "token "+action, "[flags]", map[string]string{
		"create": "Create an API token and print it once. Without --app it is an operator token (everything); with --app it is an application token, limited to that application's endpoints, messages and attempts.",
		"list":   "List API tokens.",
		"revoke": "Revoke an API token: hookline token revoke [flags] <token id>",
	}[action])
	app := fs.String("app", "", "application id or uid: create an application token for it (create), or list only its tokens (list)")
	name := fs.String("name", "", "a name to recognise the token by (create)")
	expiresIn := fs.Duration("expires-in", 0, "lifetime, such as 720h; 0 never expires (create)")
	cfg, err := parse(e, fs, config.StorageSettings, args)
	if err != nil {
		return err
	}
	clock := hookline.SystemClock{}
	logger := newLogger(cfg, e.stderr)
	store, err := server.OpenStore(ctx, cfg, logger, clock, true)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := service.New(store, clock, service.Config{}, logger)

	switch action {
	case "create":
		kind := hookline.TokenOperator
		if *app != "" {
			kind = hookline.TokenApplication
		}
		text, tok, err := svc.CreateToken(ctx, kind, *app, *name, *expiresIn)
		if err != nil {
			return fmt.Errorf("%s", hookline.ErrorMessage(err))
		}
		fmt.Fprintf(e.stderr, "Created %s token %s. It is shown only this once:\n", tok.Kind, tok.ID)
		fmt.Fprintln(e.stdout, text)
		return nil
	case "list":
		appID := ""
		if *app != "" {
			a, err := store.GetApplication(ctx, *app)
			if err != nil {
				return fmt.Errorf("%s", hookline.ErrorMessage(err))
			}
			appID = a.ID
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tAPP\tNAME\tPREFIX\tCREATED\tSTATUS")
		opts := hookline.ListOptions{Limit: 250, Descending: true}
		for {
			page, err := store.ListTokens(ctx, appID, opts)
			if err != nil {
				return err
			}
			for _, t := range page.Data {
				status := "active"
				switch {
				case t.RevokedAt != nil:
					status = "revoked " + t.RevokedAt.Format(time.RFC3339)
				case t.ExpiresAt != nil && !t.Valid(clock.Now()):
					status = "expired " + t.ExpiresAt.Format(time.RFC3339)
				case t.ExpiresAt != nil:
					status = "expires " + t.ExpiresAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s…\t%s\t%s\n", t.ID, t.Kind, t.AppID, t.Name, t.Prefix, t.CreatedAt.Format(time.RFC3339), status)
			}
			if page.Done || len(page.Data) == 0 {
				break
			}
			opts.Iterator = page.Data[len(page.Data)-1].ID
		}
		return tw.Flush()
	default: // revoke
		if fs.NArg() != 1 {
			return fmt.Errorf("give the id of the token to revoke: hookline token revoke tok_...")
		}
		if err := store.RevokeToken(ctx, fs.Arg(0), clock.Now()); err != nil {
			return fmt.Errorf("%s", hookline.ErrorMessage(err))
		}
		fmt.Fprintln(e.stdout, "revoked", fs.Arg(0))
		return nil
	}
}
