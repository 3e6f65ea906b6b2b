package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/calore-crm/calore/config"
)

// cmdImport is not built yet: see issue 3. This file is replaced by the real command.
func cmdImport(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	return errors.New("calore import: not built yet (issue 3)")
}
