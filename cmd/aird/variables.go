package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/airctl/airctl/workflow/app"
	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

func variablesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "variables", Short: "Manage variables (var.<key> in DAGs); secret ones are masked everywhere"}
	c.AddCommand(varSetCmd(g), varGetCmd(g), varListCmd(g), varDeleteCmd(g))
	return c
}

func varSetCmd(g *globals) *cobra.Command {
	var v store.Variable
	cmd := &cobra.Command{
		Use:   "set KEY VALUE [--secret] [--description TEXT]",
		Short: "Create or replace a variable",
		Long: "Creates or replaces a variable. With --secret its value is never shown again (API, UI, `variables list`) " +
			"and is masked in task logs. A value on the command line shows in the process list and shell history.",
		Args: cobra.ExactArgs(2),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			v.Key, v.Value = args[0], args[1]
			if err := a.Store.SetVariable(cmd.Context(), v); err != nil {
				return err
			}
			kind := "variable"
			if v.Secret {
				kind = "secret variable"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s set\n", kind, v.Key)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&v.Secret, "secret", false, "mask the value everywhere")
	cmd.Flags().StringVar(&v.Description, "description", "", "description")
	return cmd
}

func varGetCmd(g *globals) *cobra.Command {
	var reveal bool
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a variable's value (a secret one only with --reveal)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			v, err := a.Store.GetVariable(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if v.Secret && !reveal {
				return errors.New("variable " + v.Key + " is secret: pass --reveal to print its value")
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Value)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&reveal, "reveal", false, "print a secret variable's value")
	return cmd
}

func varListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List variables; secret values show as ***",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, _ []string) error {
			vs, err := a.Store.ListVariables(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tVALUE\tDESCRIPTION")
			for _, v := range vs {
				if v.Secret {
					v.Value = secrets.Mask
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Key, v.Value, v.Description)
			}
			return tw.Flush()
		}),
	}
}

func varDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete a variable",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app.App, args []string) error {
			if err := a.Store.DeleteVariable(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "variable %s deleted\n", args[0])
			return nil
		}),
	}
}
