package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/matrixbuild/matrix/internal/terminal"
	"github.com/matrixbuild/matrix/provenance"
)

func newSignCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "sign --key KEY [DIR]",
		Short: "Sign DIR's provenance.intoto.jsonl (default ./out) with an ed25519 SSH key, as ssh-keygen -Y sign does",
		Long: `Sign the run's in-toto statement, DIR/provenance.intoto.jsonl, with the OpenSSH
ed25519 private key KEY (ssh-keygen -t ed25519; without a passphrase) and write the
signature to DIR/provenance.intoto.jsonl.sig in ssh-keygen's SSHSIG format, namespace
"` + provenance.Namespace + `". Only a directory that verifies is signed.

Anyone verifies it without matrix:
  ssh-keygen -Y verify -f allowed_signers -I IDENTITY -n ` + provenance.Namespace + ` \
    -s DIR/provenance.intoto.jsonl.sig < DIR/provenance.intoto.jsonl
or with matrix verify --key KEY.pub DIR, which also checks every artifact against it.

Exit status: 0 signed; 1 not signed; 2 wrong usage.`,
		Args: wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageError{errors.New("--key: the private key file to sign with")}
			}
			dir := "out"
			if len(args) == 1 {
				dir = args[0]
			}
			path, err := provenance.SignDir(cmd.Context(), dir, key)
			if err != nil {
				return fmt.Errorf("sign %s: %w", dir, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed: %s\n", terminal.Escape(path))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "OpenSSH ed25519 private key file")
	return cmd
}
