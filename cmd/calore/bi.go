package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/warehouse"
)

const biUsage = `usage: calore bi <command>

commands:
  pbids [-o file] [-host h] [-port p] [-https] [-mode Import|DirectQuery] [-user powerbi]
          write a Power BI data source file (.pbids) for the bi database
          (ODBC through the ClickHouse ODBC driver, which speaks HTTP: the
          port is ClickHouse's HTTP port, 18123 in the local stack, 8123 or
          8443 on a default server)
  status  the bi database's schema version (created by calore migrate)

docs/powerbi.md tells how to connect Power BI.
`

// cmdBI runs `calore bi …`: the Power BI side of the warehouse.
func cmdBI(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, biUsage)
		return errUsage
	}
	switch args[0] {
	case "pbids":
		return cmdBIPbids(cfg, args[1:], stdout, stderr)
	case "status":
		st, err := warehouse.BISchemaStatus(ctx, cfg.ClickHouse)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (database %s over %s)\n", st, cfg.ClickHouse.BIDatabase, cfg.ClickHouse.Database)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, biUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "calore bi: unknown command %q\n\n%s", args[0], biUsage)
		return errUsage
	}
}

// Pbids is a Power BI data source file: one ODBC connection, no credentials
// (Power BI asks for them and keeps them in its own store).
type Pbids struct {
	Version     string            `json:"version"`
	Connections []PbidsConnection `json:"connections"`
}

// PbidsConnection is one entry of a .pbids file.
type PbidsConnection struct {
	Details PbidsDetails   `json:"details"`
	Options map[string]any `json:"options"`
	Mode    string         `json:"mode"`
}

// PbidsDetails says which connector and where.
type PbidsDetails struct {
	Protocol string            `json:"protocol"`
	Address  map[string]string `json:"address"`
}

// odbcDriver is the name the ClickHouse ODBC driver registers on Windows.
const odbcDriver = "ClickHouse ODBC Driver (Unicode)"

// BIPbids builds the .pbids for the bi database on host:port (HTTP).
func BIPbids(host string, port int, https bool, database, user, mode string) (Pbids, error) {
	if mode != "Import" && mode != "DirectQuery" {
		return Pbids{}, fmt.Errorf("pbids: mode %q: want Import or DirectQuery", mode)
	}
	if host == "" || port <= 0 || port > 65535 {
		return Pbids{}, fmt.Errorf("pbids: bad address %q:%d", host, port)
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
	cs := fmt.Sprintf("Driver={%s};Url=%s;Database=%s;Username=%s", odbcDriver, url, database, user)
	return Pbids{
		Version: "0.1",
		Connections: []PbidsConnection{{
			Details: PbidsDetails{Protocol: "odbc", Address: map[string]string{"connectionString": cs}},
			Options: map[string]any{},
			Mode:    mode,
		}},
	}, nil
}

func cmdBIPbids(cfg config.Config, args []string, stdout, stderr io.Writer) error {
	host := "127.0.0.1"
	if len(cfg.ClickHouse.Addr) > 0 {
		if h, _, err := net.SplitHostPort(cfg.ClickHouse.Addr[0]); err == nil {
			host = h
		}
	}
	fs := flag.NewFlagSet("calore bi pbids", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "calore-bi.pbids", "file to write (- for standard output)")
	fs.StringVar(&host, "host", host, "ClickHouse host as Power BI reaches it (default: host of CALORE_CLICKHOUSE_ADDR)")
	port := fs.Int("port", 18123, "ClickHouse HTTP port (the ODBC driver speaks HTTP)")
	https := fs.Bool("https", false, "use https:// (e.g. port 8443)")
	mode := fs.String("mode", "Import", "Import or DirectQuery")
	user := fs.String("user", "powerbi", "ClickHouse user (read-only, bi only)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	p, err := BIPbids(host, *port, *https, cfg.ClickHouse.BIDatabase, *user, *mode)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("pbids: %w", err)
	}
	b = append(b, '\n')
	if *out == "-" {
		_, err := stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("write pbids: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (database %s on %s, user %s, %s); open it with Power BI Desktop\n", *out, cfg.ClickHouse.BIDatabase, host, *user, *mode)
	return nil
}
