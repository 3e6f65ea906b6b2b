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

const userUsage = `usage: calore user <add|token|revoke|list|disable|enable|reset-password|sessions|revoke-sessions> [flags]

  add              --username NAME [--office OFFICE --role ROLE] [--grant OFFICE:ROLE …]
                   [--email ADDR] [--name "Display Name"] [--expires YYYY-MM-DD] [--password-stdin]
  token            --username NAME [--name LABEL] [--expires YYYY-MM-DD | --expires-in DURATION]
                   prints a new API token once; its expiry must be in the future
  revoke           TOKEN_ID                          revokes an API token
  list                                               users, roles, expiry, tokens
  disable          NAME                              refuses the user's logins, sessions and tokens; ends its sessions
  enable           NAME                              lets a disabled user in again
  reset-password   NAME [--password-stdin]           sets a generated password (printed once) or the one on stdin; ends its sessions
  sessions         NAME                              the user's live web sessions
  revoke-sessions  NAME [--tokens]                   ends every session of the user (--tokens: revokes its API tokens too)

passwords: at least 12 characters, not containing the username, not a common password
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
	case "disable", "enable", "reset-password", "sessions", "revoke-sessions":
		return userAdmin(ctx, store, acc, args[0], args[1:], stdin, stdout, stderr)
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
		if err := acc.CheckPassword(*username, password); err != nil {
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
	expiresIn := fs.Duration("expires-in", 0, "the token stops working after this long, e.g. 720h")
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
	now := time.Now()
	expiresInSet := false
	fs.Visit(func(f *flag.Flag) { expiresInSet = expiresInSet || f.Name == "expires-in" })
	switch {
	case expiresInSet && exp != nil:
		return fmt.Errorf("calore user token: give --expires or --expires-in, not both")
	case expiresInSet && *expiresIn <= 0:
		return fmt.Errorf("calore user token: --expires-in %s is not a positive duration: a token cannot be created already expired", *expiresIn)
	case expiresInSet:
		t := now.Add(*expiresIn)
		exp = &t
	}
	if err := access.CheckTokenExpiry(exp, now); err != nil {
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

// userAdmin is `calore user disable|enable|reset-password|sessions|
// revoke-sessions NAME`: the user administration of docs/access.md, audited
// as updates of the user (via "cli").
func userAdmin(ctx context.Context, store *postgres.Store, acc *access.Service, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("calore user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	pwStdin, tokens := new(bool), new(bool)
	switch cmd {
	case "reset-password":
		pwStdin = fs.Bool("password-stdin", false, "read the new password from the first line of standard input instead of generating one")
	case "revoke-sessions":
		tokens = fs.Bool("tokens", false, "revoke the user's API tokens too")
	}
	// the name may come before or after the flags
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		fmt.Fprintf(stderr, "calore user %s: give one username\n\n%s", cmd, userUsage)
		return errUsage
	}
	u, err := store.UserByUsername(ctx, name)
	if err != nil {
		return fmt.Errorf("calore user %s: %w", cmd, err)
	}
	audit := func(change string, detail map[string]string) error {
		d := map[string]string{"change": change, "via": "cli"}
		for k, v := range detail {
			d[k] = v
		}
		if err := store.Audit(ctx, &calore.AuditEntry{Action: "update", Entity: "user", EntityID: strconv.FormatInt(u.ID, 10), Detail: d}); err != nil {
			return fmt.Errorf("calore user %s: %w", cmd, err)
		}
		return nil
	}
	switch cmd {
	case "disable", "enable":
		_, ended, err := acc.SetDisabled(ctx, u.ID, cmd == "disable")
		if err != nil {
			return fmt.Errorf("calore user %s: %w", cmd, err)
		}
		if err := audit(cmd+"d", map[string]string{"sessions_ended": strconv.FormatInt(ended, 10)}); err != nil {
			return err
		}
		if cmd == "disable" {
			fmt.Fprintf(stdout, "user %s disabled: its logins, sessions and API tokens are refused; %d sessions ended\n", u.Username, ended)
		} else {
			fmt.Fprintf(stdout, "user %s enabled\n", u.Username)
		}
	case "reset-password":
		var password string
		if *pwStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("calore user reset-password: read password: %w", err)
			}
			if password = strings.TrimRight(line, "\r\n"); password == "" {
				return fmt.Errorf("calore user reset-password: no password on standard input")
			}
		}
		generated, err := acc.ResetPassword(ctx, u.ID, password)
		if err != nil {
			return fmt.Errorf("calore user reset-password: %w", err)
		}
		if err := audit("password_reset", nil); err != nil {
			return err
		}
		if generated != "" {
			fmt.Fprintf(stdout, "new password of %s (shown once; its sessions ended):\n%s\n", u.Username, generated)
		} else {
			fmt.Fprintf(stdout, "password of %s set; its sessions ended\n", u.Username)
		}
	case "sessions":
		ss, err := store.Sessions(ctx, u.ID, time.Now())
		if err != nil {
			return fmt.Errorf("calore user sessions: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tCREATED\tLAST SEEN\tEXPIRES\tADDRESS\tUSER AGENT")
		for _, x := range ss {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.CreatedAt.UTC().Format(time.RFC3339), x.LastSeenAt.UTC().Format(time.RFC3339),
				x.ExpiresAt.UTC().Format(time.RFC3339), orDash(x.Address), orDash(x.UserAgent))
		}
		return tw.Flush()
	case "revoke-sessions":
		sessions, revoked, err := acc.RevokeSessions(ctx, u.ID, *tokens)
		if err != nil {
			return fmt.Errorf("calore user revoke-sessions: %w", err)
		}
		if err := audit("sessions_revoked", map[string]string{"sessions_ended": strconv.FormatInt(sessions, 10), "tokens_revoked": strconv.FormatInt(revoked, 10)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s: %d sessions ended, %d API tokens revoked\n", u.Username, sessions, revoked)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
