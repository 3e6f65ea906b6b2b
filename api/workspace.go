package api

import (
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
)

// WorkspaceWriter makes the staff workspace's changes (workspace.Writer) as
// the API makes them: through the store's scoped methods, each change and
// its audit line in one transaction.
func WorkspaceWriter(pool *pgxpool.Pool) workspaceWriter { return workspaceWriter{pool: pool} }

type workspaceWriter struct{ pool *pgxpool.Pool }

func (ww workspaceWriter) tx(r *http.Request, fn func(*postgres.Store) error) error {
	return pgx.BeginFunc(r.Context(), ww.pool, func(tx pgx.Tx) error { return fn(postgres.NewStore(tx)) })
}

// CreateInteraction stores a new interaction within sc.
func (ww workspaceWriter) CreateInteraction(r *http.Request, sc postgres.Scope, in *calore.Interaction) error {
	return ww.tx(r, func(st *postgres.Store) error {
		if err := st.CreateInteractionIn(r.Context(), sc, in); err != nil {
			return err
		}
		return writeAudit(st, r, "create", "interaction", strconv.FormatInt(in.ID, 10), nil)
	})
}

// UpdateInteraction changes an interaction read at in.Version within sc;
// a stale version is calore.ErrConflict.
func (ww workspaceWriter) UpdateInteraction(r *http.Request, sc postgres.Scope, in *calore.Interaction) error {
	return ww.tx(r, func(st *postgres.Store) error {
		if err := st.UpdateInteractionIn(r.Context(), sc, in); err != nil {
			return err
		}
		return writeAudit(st, r, "update", "interaction", strconv.FormatInt(in.ID, 10), nil)
	})
}

// ErasePerson is POST /api/people/{id}/erase for the workspace's form.
func (ww workspaceWriter) ErasePerson(r *http.Request, id int64, reason string) error {
	by := ""
	if p := principal(r); p != nil {
		by = p.User.Username
	}
	_, err := postgres.NewStore(ww.pool).ErasePerson(r.Context(), id, postgres.ErasureRequest{By: by, Reason: reason})
	return err
}
