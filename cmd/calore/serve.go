package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/calore-crm/calore/config"
)

// cmdServe is not built yet: see issue 4. This file is replaced by the real command.
func cmdServe(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	return errors.New("calore serve: not built yet (issue 4)")
}
