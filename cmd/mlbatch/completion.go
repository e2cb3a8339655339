package main

import (
	"github.com/spf13/cobra"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

func newCompletionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Print the completion script for a shell on stdout. It completes commands, flags
and file names.`,
		Example: `  # bash, for this shell
  source <(mlbatch completion bash)

  # bash, for every new shell (Debian's bash-completion)
  mlbatch completion bash > /etc/bash_completion.d/mlbatch

  # zsh
  mlbatch completion zsh > "${fpath[1]}/_mlbatch"

  # fish
  mlbatch completion fish > ~/.config/fish/completions/mlbatch.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(e.stdout, true)
			case "zsh":
				return root.GenZshCompletion(e.stdout)
			case "fish":
				return root.GenFishCompletion(e.stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(e.stdout)
			}
			return mlerr.Errorf(mlerr.Usage, "completion %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}
