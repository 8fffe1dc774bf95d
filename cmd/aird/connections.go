package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

func connectionsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "connections",
		Short: "Manage connections, stored encrypted with " + secrets.EnvKey,
		Long: "Connections are named endpoints and credentials that tasks use by ID. They are stored encrypted with the keys of " +
			secrets.EnvKey + " (comma-separated; the first encrypts, all decrypt). An environment variable " +
			connections.EnvPrefix + "<ID>=<URI> overrides a stored connection.",
	}
	c.AddCommand(connAddCmd(g), connListCmd(g), connDeleteCmd(g), connExportCmd(g), connImportCmd(g), connRotateCmd(g), connGenerateKeyCmd())
	return c
}

// withConnections runs fn with a repo on the app's store and the keyring
// of the environment.
func (g *globals) withConnections(fn func(cmd *cobra.Command, repo *connections.Repo, args []string) error) func(*cobra.Command, []string) error {
	return g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
		keys, err := secrets.FromEnv(os.Getenv)
		if err != nil {
			return err
		}
		return fn(cmd, connections.NewRepo(a.Store, keys), args)
	})
}

func connAddCmd(g *globals) *cobra.Command {
	var uri, js string
	var c connections.Connection
	cmd := &cobra.Command{
		Use:   "add CONN_ID (--conn-uri URI | --conn-json JSON | --conn-type TYPE [--conn-host ...])",
		Short: "Add a connection",
		Long: "Adds a connection from an Airflow connection URI (type://login:password@host:port/schema?extra_key=value), " +
			"from Airflow's JSON form, or from the separate --conn-* flags. Values on the command line show in the process list " +
			"and shell history: prefer `--conn-uri -` to read the URI from standard input.",
		Args: cobra.ExactArgs(1),
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, args []string) error {
			conn, err := connFromFlags(cmd, args[0], uri, js, c)
			if err != nil {
				return err
			}
			if _, err := repo.Get(cmd.Context(), conn.ConnID); err == nil {
				return fmt.Errorf("connection %s already exists: delete it first (`aird connections delete %s`)", conn.ConnID, conn.ConnID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := repo.Set(cmd.Context(), conn); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "connection %s added (type %s)\n", conn.ConnID, conn.ConnType)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&uri, "conn-uri", "", "connection URI; - reads it from standard input")
	f.StringVar(&js, "conn-json", "", `connection as JSON: {"conn_type": ..., "host": ..., "extra": {...}}`)
	f.StringVar(&c.ConnType, "conn-type", "", "connection type (http, postgres, ssh, google_cloud_platform, ...)")
	f.StringVar(&c.Description, "conn-description", "", "description")
	f.StringVar(&c.Host, "conn-host", "", "host (may include a protocol: https://api.example.com)")
	f.StringVar(&c.Login, "conn-login", "", "login")
	f.StringVar(&c.Password, "conn-password", "", "password")
	f.StringVar(&c.Schema, "conn-schema", "", "schema (database name, base path)")
	f.IntVar(&c.Port, "conn-port", 0, "port")
	f.StringVar(&c.Extra, "conn-extra", "", "extra, a JSON object")
	cmd.MarkFlagsMutuallyExclusive("conn-uri", "conn-json", "conn-type")
	cmd.MarkFlagsOneRequired("conn-uri", "conn-json", "conn-type")
	return cmd
}

// connFromFlags builds the connection from whichever form was given.
func connFromFlags(cmd *cobra.Command, id, uri, js string, c connections.Connection) (connections.Connection, error) {
	switch {
	case uri == "-":
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
		if err != nil {
			return c, fmt.Errorf("read the connection URI from standard input: %w", err)
		}
		return connections.ParseURI(id, string(trimNewline(b)))
	case uri != "":
		return connections.ParseURI(id, uri)
	case js != "":
		return connections.ParseJSON(id, []byte(js))
	}
	c.ConnID = id
	return c, c.Validate()
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func connListCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List connections (passwords are never shown)",
		Args:  cobra.NoArgs,
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, _ []string) error {
			conns, err := repo.List(cmd.Context())
			if err != nil {
				return err
			}
			for i := range conns {
				conns[i].Password = ""
			}
			switch output {
			case "table":
				return printConnTable(cmd.OutOrStdout(), conns)
			case "json":
				return writeConnJSON(cmd.OutOrStdout(), conns)
			}
			return fmt.Errorf("--output %q: use table or json", output)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

func printConnTable(w io.Writer, conns []connections.Connection) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONN_ID\tTYPE\tHOST\tPORT\tLOGIN\tSCHEMA\tDESCRIPTION")
	for _, c := range conns {
		port := ""
		if c.Port != 0 {
			port = fmt.Sprint(c.Port)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ConnID, c.ConnType, c.Host, port, c.Login, c.Schema, c.Description)
	}
	return tw.Flush()
}

// writeConnJSON writes Airflow's export form: an object keyed by ID.
func writeConnJSON(w io.Writer, conns []connections.Connection) error {
	byID := make(map[string]connections.Connection, len(conns))
	for _, c := range conns {
		byID[c.ConnID] = c
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(byID)
}

func connDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CONN_ID",
		Short: "Delete a connection",
		Args:  cobra.ExactArgs(1),
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, args []string) error {
			if err := repo.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "connection %s deleted\n", args[0])
			return nil
		}),
	}
}

func connExportCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Export connections with their passwords, to move them to another aird",
		Long: "Writes every stored connection in clear, passwords included, as Airflow's `connections export` does: " +
			"json (an object keyed by connection ID) or env (lines CONN_ID=URI). FILE - writes to standard output; " +
			"a file is created with mode 0600.",
		Args: cobra.ExactArgs(1),
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, args []string) error {
			if format != "json" && format != "env" {
				return fmt.Errorf("--format %q: use json or env", format)
			}
			conns, err := repo.List(cmd.Context())
			if err != nil {
				return err
			}
			if args[0] == "-" {
				return writeExport(cmd.OutOrStdout(), format, conns)
			}
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("export connections: %w", err)
			}
			if err := writeExport(f, format, conns); err != nil {
				f.Close()
				return fmt.Errorf("export connections to %s: %w", args[0], err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("export connections to %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d connections exported to %s\n", len(conns), args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&format, "format", "json", "json or env")
	return cmd
}

func writeExport(w io.Writer, format string, conns []connections.Connection) error {
	if format == "json" {
		return writeConnJSON(w, conns)
	}
	for _, c := range conns {
		if _, err := fmt.Fprintf(w, "%s=%s\n", c.ConnID, c.URI()); err != nil {
			return err
		}
	}
	return nil
}

func connImportCmd(g *globals) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import connections from a file of `connections export` (json or env, by extension)",
		Long: "Reads connections in Airflow's export forms: a .json object keyed by connection ID, or a .env file of " +
			"CONN_ID=URI lines. Existing connections are skipped unless --overwrite is given. FILE - reads JSON from standard input.",
		Args: cobra.ExactArgs(1),
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, args []string) error {
			conns, err := readImport(cmd, args[0])
			if err != nil {
				return err
			}
			added, skipped := 0, 0
			for _, c := range conns {
				if !overwrite {
					if _, err := repo.Get(cmd.Context(), c.ConnID); err == nil {
						fmt.Fprintf(cmd.OutOrStdout(), "connection %s exists: skipped\n", c.ConnID)
						skipped++
						continue
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
				}
				if err := repo.Set(cmd.Context(), c); err != nil {
					return err
				}
				added++
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d connections imported, %d skipped\n", added, skipped)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace connections that already exist")
	return cmd
}

// readImport parses the whole file first, so a bad entry imports nothing.
func readImport(cmd *cobra.Command, path string) ([]connections.Connection, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("import connections: %w", err)
	}
	if strings.HasSuffix(path, ".env") {
		return parseEnvExport(data)
	}
	var byID map[string]json.RawMessage
	if err := json.Unmarshal(data, &byID); err != nil {
		return nil, fmt.Errorf("import connections from %s: want a JSON object keyed by connection ID (or a .env file): %w", path, err)
	}
	var out []connections.Connection
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		c, err := connections.ParseJSON(id, byID[id])
		if err != nil {
			return nil, fmt.Errorf("import connections from %s: %w", path, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseEnvExport(data []byte) ([]connections.Connection, error) {
	var out []connections.Connection
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, uri, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("import connections: line %d: want CONN_ID=URI", i+1)
		}
		c, err := connections.ParseURI(strings.TrimSpace(id), strings.TrimSpace(uri))
		if err != nil {
			return nil, fmt.Errorf("import connections: line %d: %w", i+1, err)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("import connections: line %d: %w", i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func connRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key",
		Short: "Re-encrypt every connection with the first key of " + secrets.EnvKey,
		Long: "Key rotation: put the new key first in " + secrets.EnvKey + " and keep the old one after it (NEW,OLD), run this " +
			"command, then remove the old key from " + secrets.EnvKey + " everywhere and restart aird.",
		Args: cobra.NoArgs,
		RunE: g.withConnections(func(cmd *cobra.Command, repo *connections.Repo, _ []string) error {
			n, err := repo.Rotate(cmd.Context())
			if err != nil {
				return fmt.Errorf("rotate key (%d connections re-encrypted before the error): %w", n, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d connections re-encrypted with the first key of %s; the other keys can be removed\n", n, secrets.EnvKey)
			return nil
		}),
	}
}

func connGenerateKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "generate-key",
		Short: "Print a new random key for " + secrets.EnvKey,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), secrets.GenerateKey())
			return nil
		},
	}
}
