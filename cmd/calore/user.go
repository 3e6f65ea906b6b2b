package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
)

const userUsage = `usage: calore user <add|token|revoke|list> [flags]

  add     --username NAME [--office OFFICE --role ROLE] [--grant OFFICE:ROLE …]
          [--email ADDR] [--name "Display Name"] [--expires YYYY-MM-DD] [--password-stdin]
  token   --username NAME [--name LABEL] [--expires YYYY-MM-DD]   prints a new API token once
  revoke  TOKEN_ID                                               revokes an API token
  list                                                           users, roles, expiry, tokens

offices: orientation, career_service, engagement, research, alumni, fundraising, central
roles:   admin, manager, editor, read_only (docs/access.md)
`

// grants collects repeated --grant office:role flags.
type grants []calore.Role

func (g *grants) String() string { return fmt.Sprint(*g) }

func (g *grants) Set(v string) error {
	office, role, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("%q is not OFFICE:ROLE", v)
	}
	*g = append(*g, calore.Role{Office: strings.TrimSpace(office), Role: strings.TrimSpace(role)})
	return nil
}

// cmdUser is `calore user`: back-office users and their API tokens.
func cmdUser(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewStore(pool)
	acc, err := access.NewService(store, access.Options{})
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, store, acc, args[1:], stdin, stdout, stderr)
	case "token":
		return userToken(ctx, store, args[1:], stdout, stderr)
	case "revoke":
		if len(args) != 2 {
			fmt.Fprint(stderr, userUsage)
			return errUsage
		}
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return fmt.Errorf("calore user revoke: %q is not a token id", args[1])
		}
		if err := store.RevokeAPIToken(ctx, id, time.Now()); err != nil {
			return fmt.Errorf("calore user revoke: %w", err)
		}
		fmt.Fprintf(stdout, "token %d revoked\n", id)
		return nil
	case "list":
		return userList(ctx, store, stdout)
	}
	fmt.Fprintf(stderr, "calore user: unknown subcommand %q\n\n%s", args[0], userUsage)
	return errUsage
}

func parseDate(flagName, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("--%s %q is not YYYY-MM-DD", flagName, v)
	}
	return &t, nil
}

func userAdd(ctx context.Context, store *postgres.Store, acc *access.Service, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calore user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name (required)")
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name")
	office := fs.String("office", "", "office of the role (with --role)")
	role := fs.String("role", "", "role in --office: admin, manager, editor, read_only")
	expires := fs.String("expires", "", "temporary account: refused from this day on (YYYY-MM-DD, UTC)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	var gs grants
	fs.Var(&gs, "grant", "OFFICE:ROLE, repeatable")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	var problems []error
	if *username == "" {
		problems = append(problems, errors.New("--username is required"))
	}
	if (*office == "") != (*role == "") {
		problems = append(problems, errors.New("--office and --role go together"))
	} else if *office != "" {
		gs = append(gs, calore.Role{Office: *office, Role: *role})
	}
	exp, err := parseDate("expires", *expires)
	if err != nil {
		problems = append(problems, err)
	}
	u := &calore.User{Username: *username, Email: *email, DisplayName: *name, ExpiresAt: exp, Roles: []calore.Role(gs)}
	if u.Roles == nil {
		u.Roles = []calore.Role{}
	}
	if err := access.ValidateRoles(u.Roles); err != nil {
		problems = append(problems, err)
	}
	var password string
	if *pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			problems = append(problems, fmt.Errorf("read password: %w", err))
		}
		password = strings.TrimRight(line, "\r\n")
		if _, err := acc.HashPassword(password); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("calore user add: %w", errors.Join(problems...))
	}
	if err := store.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("calore user add: %w", err)
	}
	if *pwStdin {
		if err := acc.SetPassword(ctx, u.ID, password); err != nil {
			return fmt.Errorf("calore user add: user %d created, password not set: %w", u.ID, err)
		}
	}
	fmt.Fprintf(stdout, "user %d %s created with roles %s", u.ID, u.Username, rolesText(u.Roles))
	if !*pwStdin {
		fmt.Fprint(stdout, " (no password: API tokens only)")
	}
	fmt.Fprintln(stdout)
	return nil
}

func rolesText(rs []calore.Role) string {
	if len(rs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Office + ":" + r.Role
	}
	return strings.Join(parts, ",")
}

func userToken(ctx context.Context, store *postgres.Store, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calore user token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "whose token (required)")
	name := fs.String("name", "", "what the token is for, e.g. crm-sync")
	expires := fs.String("expires", "", "the token stops working on this day (YYYY-MM-DD, UTC)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *username == "" {
		if *username == "" {
			fmt.Fprintln(stderr, "calore user token: --username is required")
		}
		return errUsage
	}
	exp, err := parseDate("expires", *expires)
	if err != nil {
		return fmt.Errorf("calore user token: %w", err)
	}
	u, err := store.UserByUsername(ctx, *username)
	if err != nil {
		return fmt.Errorf("calore user token: %w", err)
	}
	secret, hash, err := access.NewSecret(access.TokenPrefix)
	if err != nil {
		return fmt.Errorf("calore user token: %w", err)
	}
	t, err := store.CreateAPIToken(ctx, u.ID, *name, hash, exp)
	if err != nil {
		return fmt.Errorf("calore user token: %w", err)
	}
	fmt.Fprintf(stdout, "token %d for %s (shown once; send it as \"Authorization: Bearer <token>\"):\n%s\n", t.ID, u.Username, secret)
	return nil
}

func userList(ctx context.Context, store *postgres.Store, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLES\tEXPIRES\tSTATE\tTOKENS")
	now := time.Now()
	f := postgres.Filter{Limit: 1000}
	for {
		us, err := store.ListUsers(ctx, f)
		if err != nil {
			return fmt.Errorf("calore user list: %w", err)
		}
		for _, u := range us {
			toks, err := store.APITokens(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("calore user list: %w", err)
			}
			live := 0
			for _, t := range toks {
				if t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now)) {
					live++
				}
			}
			exp, state := "-", "active"
			if u.ExpiresAt != nil {
				exp = u.ExpiresAt.UTC().Format(time.DateOnly)
			}
			switch {
			case u.Disabled:
				state = "disabled"
			case !u.Active(now):
				state = "expired"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", u.ID, u.Username, rolesText(u.Roles), exp, state, live)
		}
		if len(us) < f.Limit {
			break
		}
		f.AfterID = us[len(us)-1].ID
	}
	return tw.Flush()
}
