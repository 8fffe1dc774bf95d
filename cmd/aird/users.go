package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/web"
)

func usersCmd(g *globals) *cobra.Command {
	users := &cobra.Command{Use: "users", Short: "Manage webserver users"}
	users.AddCommand(usersCreateCmd(g))
	return users
}

func usersCreateCmd(g *globals) *cobra.Command {
	var n web.NewUser
	var first, last string
	c := &cobra.Command{
		Use:   "create --username NAME --role ROLE --email EMAIL [--password PASSWORD]",
		Short: "Create a webserver user (Admin, Op, User or Viewer)",
		Long: "Creates an active user with a bcrypt-hashed password. Without --password a random one is generated and printed once. " +
			"Roles: Viewer reads; User also triggers, clears and pauses DAGs; Op also manages variables, pools and connections; Admin also manages users.",
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			u, generated, err := web.CreateUser(cmd.Context(), a.Store, n)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s created with role %s\n", u.Username, u.Role)
			if generated != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "generated password (shown only now): %s\n", generated)
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVarP(&n.Username, "username", "u", "", "login name (required)")
	f.StringVarP(&n.Role, "role", "r", "", "Admin, Op, User or Viewer (required)")
	f.StringVarP(&n.Email, "email", "e", "", "email address (required)")
	f.StringVarP(&n.Password, "password", "p", "", "password, at least 8 characters (default: generate one); note that it shows in the process list")
	// Accepted so the reference deployment's `airflow users create` line
	// carries over; aird stores no names yet.
	f.StringVarP(&first, "firstname", "f", "", "first name (accepted for Airflow compatibility; not stored)")
	f.StringVarP(&last, "lastname", "l", "", "last name (accepted for Airflow compatibility; not stored)")
	for _, name := range []string{"username", "role", "email"} {
		_ = c.MarkFlagRequired(name)
	}
	return c
}
